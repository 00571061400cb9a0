// Jobs as the master reports them: the recent list, and the full record (units, outputs) of each
// job the user opened. distributed_job and distributed_unit messages update both, batched per
// animation frame; a job's outputs are re-read when its units finish, since unit messages do not
// carry file names.
import { reactive, shallowReactive, shallowRef, type ShallowRef } from 'vue';
import { describeError } from '../api/apiError';
import { jobsApi } from '../api/jobsApi';
import type { JobDetail, JobMessage, JobSummary, Unit, UnitMessage } from '../api/types';
import { FrameBatcher } from '../logic/frameBatcher';
import { isFinished } from '../logic/unitText';

export const jobs = reactive({
  list: [] as JobSummary[],
  total: 0,
  loaded: false,
  error: '',
  // False until the master answers /distributed/jobs (an older master has no jobs API).
  available: true,
});

// Opened jobs. Each unit sits in its own ref, which only its bar reads: a unit message
// re-renders one bar, not the list of 500.
export interface OpenJob {
  detail: JobDetail | null;
  units: ShallowRef<Unit>[];
  error: string;
}
export const openJobs = shallowReactive(new Map<string, OpenJob>());

const LIST_LIMIT = 100;

export async function loadJobs(): Promise<void> {
  try {
    const answer = await jobsApi.list(LIST_LIMIT);
    jobs.list = answer.jobs;
    jobs.total = answer.total;
    jobs.error = '';
    jobs.available = true;
  } catch (e) {
    jobs.error = describeError(e);
    jobs.available = !(e instanceof Error && 'status' in e && (e as { status: number }).status === 404);
  } finally {
    jobs.loaded = true;
  }
}

export async function openJob(id: string): Promise<OpenJob> {
  let entry = openJobs.get(id);
  if (!entry) {
    entry = shallowReactive<OpenJob>({ detail: null, units: shallowReactive<ShallowRef<Unit>[]>([]), error: '' });
    openJobs.set(id, entry);
  }
  await reloadJob(id);
  return entry;
}

export function closeJob(id: string): void {
  openJobs.delete(id);
}

export async function reloadJob(id: string): Promise<void> {
  const entry = openJobs.get(id);
  if (!entry) {
    return;
  }
  try {
    const detail = await jobsApi.get(id);
    entry.detail = detail;
    for (const fresh of detail.units) {
      const cell = entry.units.find((c) => c.value.index === fresh.index);
      if (!cell) {
        entry.units.push(shallowRef(Object.freeze({ ...fresh })));
      } else if (!keepOld(cell.value, fresh)) {
        cell.value = Object.freeze({ ...fresh });
      }
    }
    entry.error = '';
    mergeSummary(detail);
  } catch (e) {
    entry.error = describeError(e);
  }
}

// Keeps the unit already shown when the re-read one says the same, so that its bar does not
// re-render, or when the re-read one is older than a message that arrived meanwhile (a finished
// unit only goes back to running when it is retried, which raises its attempts).
function keepOld(old: Unit, fresh: Unit): boolean {
  const finished = (u: Unit) => u.state === 'done' || u.state === 'failed';
  if (finished(old) && !finished(fresh) && fresh.attempts <= old.attempts) {
    return true;
  }
  return (
    old.state === fresh.state &&
    old.attempts === fresh.attempts &&
    old.worker_id === fresh.worker_id &&
    old.progress?.value === fresh.progress?.value &&
    old.progress?.max === fresh.progress?.max &&
    old.errors.length === fresh.errors.length &&
    old.outputs.length === fresh.outputs.length &&
    old.finished_at === fresh.finished_at
  );
}

function mergeSummary(summary: Partial<JobSummary> & { id: string }): void {
  const index = jobs.list.findIndex((j) => j.id === summary.id);
  if (index >= 0) {
    jobs.list[index] = { ...jobs.list[index], ...stripDetail(summary) };
  } else if (summary.state) {
    // A job queued elsewhere: shown at once from the message, completed by a re-read of the list.
    jobs.list.unshift(stripDetail(summary) as JobSummary);
    jobs.total += 1;
    if (jobs.list.length > LIST_LIMIT) {
      jobs.list.pop();
    }
    scheduleListReload();
  }
}

let listTimer: ReturnType<typeof setTimeout> | null = null;
function scheduleListReload(): void {
  if (listTimer) {
    return;
  }
  listTimer = setTimeout(() => {
    listTimer = null;
    void loadJobs();
  }, 500);
}

function stripDetail(job: Partial<JobSummary> & { id: string }): Partial<JobSummary> & { id: string } {
  const { units: _u, outputs: _o, prompt: _p, ...summary } = job as Partial<JobDetail> & { id: string };
  return summary;
}

// Outputs are re-read at most this often per job while its units finish.
const RELOAD_INTERVAL_MS = 1000;
const reloadTimers = new Map<string, ReturnType<typeof setTimeout>>();

function scheduleReload(id: string): void {
  if (!openJobs.has(id) || reloadTimers.has(id)) {
    return;
  }
  reloadTimers.set(
    id,
    setTimeout(() => {
      reloadTimers.delete(id);
      void reloadJob(id);
    }, RELOAD_INTERVAL_MS),
  );
}

const unitBatch = new FrameBatcher<UnitMessage>((messages) => {
  for (const m of messages) {
    const entry = openJobs.get(m.prompt_id);
    if (!entry) {
      continue;
    }
    const index = typeof m.index === 'number' ? m.index : m.unit;
    // Units are listed in index order, so the slot is usually at its index.
    const cell =
      entry.units[index]?.value.index === index ? entry.units[index] : entry.units.find((c) => c.value.index === index);
    const previous = cell?.value;
    const unit: Unit = Object.freeze({
      index,
      state: m.state,
      worker_id: m.worker_id ?? null,
      worker_name: m.worker_name ?? null,
      attempts: m.attempts ?? 0,
      errors: m.errors ?? [],
      progress: m.progress ?? null,
      started_at: m.started_at ?? previous?.started_at ?? null,
      finished_at: m.finished_at ?? previous?.finished_at ?? null,
      outputs: m.outputs ?? previous?.outputs ?? [],
    });
    if (cell) {
      cell.value = unit;
    } else {
      entry.units.push(shallowRef(unit));
    }
    if (unit.state === 'done' && previous?.state !== 'done') {
      scheduleReload(m.prompt_id);
    }
  }
});

const jobBatch = new FrameBatcher<JobMessage>((messages) => {
  for (const m of messages) {
    const id = m.id ?? m.prompt_id;
    mergeSummary({ ...m, id });
    if (m.state && isFinished(m.state)) {
      scheduleReload(id);
    }
  }
});

export function onUnitMessage(message: UnitMessage): void {
  unitBatch.push(`${message.prompt_id}/${message.index ?? message.unit}`, message);
}

export function onJobMessage(message: JobMessage): void {
  jobBatch.push(message.id ?? message.prompt_id, message);
}

export async function cancelJob(id: string): Promise<void> {
  await jobsApi.cancel(id);
  await reloadJob(id);
}

export async function retryJob(id: string): Promise<void> {
  await jobsApi.retry(id);
  await reloadJob(id);
}
