// A worker card shows its state in colour and words, and only the controls that apply.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import WorkerCard from '../src/components/WorkerCard.vue';
import type { Worker } from '../src/api/types';

const worker = (over: Partial<Worker>): Worker => ({
  id: 'w1',
  name: 'GPU 0',
  type: 'local',
  host: '',
  port: 8189,
  cuda_device: '0',
  extra_args: '',
  enabled: true,
  engine: 'native',
  state: 'idle',
  queue_remaining: 0,
  last_error: null,
  pid: 42,
  devices: [{ name: 'cpu', vram_total: 8 * 2 ** 30, vram_free: 6 * 2 ** 30 }],
  url: 'http://127.0.0.1:8189',
  ...over,
});

const button = (wrapper: ReturnType<typeof mount>, label: string) =>
  wrapper.findAll('button').find((b) => b.text() === label)!;

describe('WorkerCard', () => {
  it('shows a running local worker with Stop and its device', () => {
    const wrapper = mount(WorkerCard, { props: { worker: worker({}) } });
    expect(wrapper.text()).toContain('CUDA 0 · port 8189');
    expect(wrapper.get('[data-testid="device"]').text()).toBe('cpu · 2.0 GiB / 8.0 GiB');
    expect(wrapper.get('[data-testid="status"]').classes()).toContain('tone-ok');
    expect(button(wrapper, 'Launch').attributes('disabled')).toBeDefined();
    expect(button(wrapper, 'Stop').attributes('disabled')).toBeUndefined();
  });

  it('shows a crash in red with its reason, and Launch', () => {
    const wrapper = mount(WorkerCard, {
      props: { worker: worker({ state: 'crashed', last_error: 'the worker was killed by signal 9' }) },
    });
    expect(wrapper.get('[data-testid="status"]').classes()).toContain('tone-error');
    expect(wrapper.get('[data-testid="status"]').attributes('title')).toContain('killed by signal 9');
    expect(wrapper.get('[data-testid="last-error"]').text()).toContain('killed by signal 9');
    expect(button(wrapper, 'Launch').attributes('disabled')).toBeUndefined();
  });

  it('gives remote workers a badge and no process controls', () => {
    const wrapper = mount(WorkerCard, {
      props: { worker: worker({ type: 'remote', host: '10.0.0.7', cuda_device: null, state: 'offline' }) },
    });
    expect(wrapper.text()).toContain('Remote');
    expect(wrapper.text()).toContain('10.0.0.7:8189');
    expect(button(wrapper, 'Launch')).toBeUndefined();
  });

  it('opens its edit form from the name', async () => {
    const wrapper = mount(WorkerCard, { props: { worker: worker({}) } });
    await wrapper.get('button.name').trigger('click');
    expect(wrapper.find('form').exists()).toBe(true);
    expect(wrapper.get('button.name').attributes('aria-expanded')).toBe('true');
  });
});
