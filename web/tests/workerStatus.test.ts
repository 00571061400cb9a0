// Every state of design.md §2 has a colour, a label and a tooltip with the reason.
import { describe, expect, it } from 'vitest';
import type { WorkerState } from '../src/api/types';
import { isOnline, workerStatus } from '../src/logic/workerStatus';

const states: WorkerState[] = ['disabled', 'stopped', 'launching', 'idle', 'busy', 'offline', 'crashed', 'stopping'];

describe('workerStatus', () => {
  it('covers every state', () => {
    for (const state of states) {
      const view = workerStatus({ state, queue_remaining: 0, last_error: null });
      expect(view.label.length).toBeGreaterThan(0);
      expect(view.tooltip.length).toBeGreaterThan(0);
    }
  });

  it('uses green for idle, amber for busy and launching, red for offline and crashed, grey otherwise', () => {
    const tone = (state: WorkerState) => workerStatus({ state, queue_remaining: 0, last_error: null }).tone;
    expect(tone('idle')).toBe('ok');
    expect(tone('busy')).toBe('busy');
    expect(tone('launching')).toBe('pending');
    expect(tone('offline')).toBe('error');
    expect(tone('crashed')).toBe('error');
    expect(tone('disabled')).toBe('off');
    expect(tone('stopped')).toBe('off');
  });

  it('puts the queue in the label and the last error in the tooltip', () => {
    const view = workerStatus({ state: 'busy', queue_remaining: 3, last_error: null });
    expect(view.label).toBe('Busy (3 queued)');
    const down = workerStatus({ state: 'offline', queue_remaining: 0, last_error: 'connection refused by 10.0.0.7:8189' });
    expect(down.tooltip).toContain('connection refused by 10.0.0.7:8189');
  });

  it('knows which states answer probes', () => {
    expect(isOnline({ state: 'idle' })).toBe(true);
    expect(isOnline({ state: 'busy' })).toBe(true);
    expect(isOnline({ state: 'launching' })).toBe(false);
  });
});
