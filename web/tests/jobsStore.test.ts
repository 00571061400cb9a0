// Live job and unit messages update the open job and the list, batched per frame.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobs, onJobMessage, onUnitMessage, openJob, openJobs } from '../src/stores/jobs';
import type { JobDetail } from '../src/api/types';

const detail: JobDetail = {
  id: 'job1',
  number: 7,
  state: 'running',
  mode: 'fan_out',
  created_at: 1,
  started_at: 1,
  finished_at: null,
  error: null,
  unit_count: 2,
  units_by_state: { pending: 2 },
  skipped_workers: {},
  units: [0, 1].map((index) => ({
    index,
    state: 'pending',
    worker_id: null,
    worker_name: null,
    attempts: 0,
    errors: [],
    progress: null,
    started_at: null,
    finished_at: null,
    outputs: [],
  })),
  outputs: {},
  prompt: {},
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('jobs store', () => {
  it('applies unit and job messages to the open job', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(detail), { status: 200 })));
    await openJob('job1');
    const entry = openJobs.get('job1')!;
    const untouched = entry.units[1].unit.value;
    onUnitMessage({
      prompt_id: 'job1',
      unit: 0,
      units: 2,
      index: 0,
      state: 'dispatched',
      worker_id: 'w',
      worker_name: 'GPU 0',
      attempts: 1,
      errors: [],
      progress: { value: 1, max: 4 },
    } as never);
    onJobMessage({ prompt_id: 'job1', id: 'job1', state: 'running', units_by_state: { pending: 1, dispatched: 1 } });
    await new Promise((r) => setTimeout(r, 80));
    expect(entry.units[0].unit.value).toMatchObject({ state: 'dispatched', worker_name: 'GPU 0', progress: { value: 1, max: 4 } });
    // The other unit keeps its object, so its bar does not re-render.
    expect(entry.units[1].unit.value).toBe(untouched);
    expect(jobs.list.find((j) => j.id === 'job1')?.units_by_state).toEqual({ pending: 1, dispatched: 1 });
  });

  it('keeps units in index order when messages come before the job is read', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ ...detail, id: 'job3' }), { status: 200 })));
    const pending = openJob('job3');
    for (const index of [1, 0]) {
      onUnitMessage({ prompt_id: 'job3', unit: index, units: 2, index, state: 'dispatched', worker_id: 'w', worker_name: 'GPU 0', attempts: 1, errors: [], progress: null } as never);
    }
    await new Promise((r) => setTimeout(r, 80));
    await pending;
    expect(openJobs.get('job3')!.units.map((c) => c.index)).toEqual([0, 1]);
  });

  it('adds a job it did not know to the top of the list', async () => {
    onJobMessage({ prompt_id: 'job2', id: 'job2', number: 8, state: 'queued', mode: 'single', unit_count: 1, units_by_state: { pending: 1 } });
    await new Promise((r) => setTimeout(r, 80));
    expect(jobs.list[0].id).toBe('job2');
  });
});
