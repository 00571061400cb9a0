// "Add worker" proposes the next free CUDA device and port, as the extension does.
import { describe, expect, it } from 'vitest';
import type { WorkerFields } from '../src/api/types';
import { devicesOf, nextFreePort, proposeNewWorker } from '../src/logic/nextWorker';

const local = (port: number, cuda: string | null, name = `w${port}`): WorkerFields => ({
  name,
  type: 'local',
  host: '',
  port,
  cuda_device: cuda,
  extra_args: '',
  enabled: true,
  engine: 'native',
});

describe('nextFreePort', () => {
  it('starts at 8189 and skips the master and local workers', () => {
    expect(nextFreePort([], 8188)).toBe(8189);
    expect(nextFreePort([local(8189, '0'), local(8190, '1')], 8188)).toBe(8191);
    expect(nextFreePort([local(8190, '0')], 8189)).toBe(8191);
  });
  it('skips remote workers on this machine, not those elsewhere', () => {
    const remote = { ...local(8189, null), type: 'remote' as const, host: '127.0.0.1' };
    const far = { ...local(8190, null), type: 'remote' as const, host: '10.0.0.7' };
    expect(nextFreePort([remote, far], 8188)).toBe(8190);
  });
});

describe('proposeNewWorker', () => {
  it('takes the first GPU no local worker uses', () => {
    const p = proposeNewWorker([local(8189, '0'), local(8190, '2')], [0, 1, 2, 3], 8188);
    expect(p.fields).toMatchObject({ type: 'local', cuda_device: '1', port: 8191, enabled: true });
    expect(p.note).toBeNull();
  });
  it('counts device lists', () => {
    expect(devicesOf('0, 1')).toEqual([0, 1]);
    const p = proposeNewWorker([local(8189, '0,1')], [0, 1, 2], 8188);
    expect(p.fields.cuda_device).toBe('2');
  });
  it('proposes a remote worker when every GPU is taken', () => {
    const p = proposeNewWorker([local(8189, '0')], [0], 8188);
    expect(p.fields).toMatchObject({ type: 'remote', enabled: true });
    expect(p.note).toMatch(/already has a local worker/);
  });
  it('proposes a CPU worker without GPUs', () => {
    const p = proposeNewWorker([], [], 8188);
    expect(p.fields).toMatchObject({ type: 'local', cuda_device: null, port: 8189 });
    expect(p.note).toMatch(/CPU/);
  });
  it('gives a name no worker has', () => {
    const p = proposeNewWorker([local(8189, null, 'Worker 2')], [], 8188);
    expect(p.fields.name).toBe('Worker 3');
  });
});
