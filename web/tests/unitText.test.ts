// Units and jobs described in plain words.
import { describe, expect, it } from 'vitest';
import type { Unit } from '../src/api/types';
import { jobCounts, unitFraction, unitLabel } from '../src/logic/unitText';

const base: Unit = {
  index: 0,
  state: 'pending',
  worker_id: null,
  worker_name: null,
  attempts: 0,
  errors: [],
  progress: null,
  started_at: null,
  finished_at: null,
  outputs: [],
};

describe('unitLabel', () => {
  it('names the worker and the step', () => {
    expect(unitLabel({ ...base, state: 'dispatched', worker_name: 'GPU 1', attempts: 1, progress: { value: 3, max: 10 } })).toBe(
      'running on GPU 1 · step 3/10',
    );
    expect(unitFraction({ ...base, state: 'dispatched', progress: { value: 3, max: 10 } })).toBeCloseTo(0.3);
  });
  it('explains retries and failures', () => {
    const error = { worker_id: 'a', worker_name: 'GPU 0', message: 'worker went offline', at: 1 };
    expect(unitLabel({ ...base, attempts: 1, errors: [error] })).toBe('waiting for another worker after: worker went offline');
    expect(unitLabel({ ...base, state: 'dispatched', worker_name: 'GPU 1', attempts: 2, errors: [error] })).toBe(
      'running on GPU 1 (attempt 2)',
    );
    expect(unitLabel({ ...base, state: 'failed', attempts: 3, errors: [error] })).toBe('failed after 3 attempts: worker went offline');
  });
  it('says how long a finished unit took', () => {
    expect(unitLabel({ ...base, state: 'done', worker_name: 'GPU 0', attempts: 1, started_at: 10, finished_at: 12.5 })).toBe(
      'done on GPU 0 in 2.5 s',
    );
    expect(unitFraction({ ...base, state: 'done' })).toBe(1);
  });
});

describe('jobCounts', () => {
  it('lists what is not zero', () => {
    expect(jobCounts({ unit_count: 8, units_by_state: { done: 5, dispatched: 2, failed: 1 } })).toBe(
      '5/8 done · 2 running · 1 failed',
    );
  });
});
