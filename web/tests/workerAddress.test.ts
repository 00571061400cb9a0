// The address line reads as the user set the worker up.
import { describe, expect, it } from 'vitest';
import { workerAddress } from '../src/logic/workerAddress';
import { deviceLine } from '../src/logic/deviceLine';

describe('workerAddress', () => {
  it('shows device and port for local workers', () => {
    expect(workerAddress({ type: 'local', host: '', port: 8189, cuda_device: '0' })).toBe('CUDA 0 · port 8189');
    expect(workerAddress({ type: 'local', host: '', port: 8190, cuda_device: null })).toBe('CPU · port 8190');
  });
  it('shows host:port for remote workers and the host for cloud ones on 443', () => {
    expect(workerAddress({ type: 'remote', host: '10.0.0.7', port: 8189, cuda_device: null })).toBe('10.0.0.7:8189');
    expect(workerAddress({ type: 'cloud', host: 'pod.example.net', port: 443, cuda_device: null })).toBe('pod.example.net');
    expect(workerAddress({ type: 'cloud', host: 'pod.example.net', port: 8443, cuda_device: null })).toBe('pod.example.net:8443');
  });
});

describe('deviceLine', () => {
  it('shows memory in use of the total', () => {
    expect(deviceLine([{ name: 'cuda:0 NVIDIA H100', vram_total: 80 * 2 ** 30, vram_free: 60 * 2 ** 30 }])).toBe(
      'cuda:0 NVIDIA H100 · 20 GiB / 80 GiB',
    );
    expect(deviceLine([])).toBe('');
  });
});
