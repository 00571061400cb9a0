// Jobs as the master reports them: the recent list, and the full record (units, outputs) of each
// job the user opened. distributed_job and distributed_unit messages update both, batched per
// animation frame; a job's outputs are re-read when its units finish, since unit messages do not
// carry file names.
import { reactive, shallowReactive, shallowRef, type ShallowRef } from 'vue';
import { describeError } from '../api/apiError';
import { jobsApi } from '../api/jobsApi';
import type { JobDetail, JobMessage, JobSummary, Unit, UnitMessage, UnitState } from '../api/types';
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
// re-renders one bar, not the list of 500. Cells are kept in unit order.
export interface UnitCell {
  readonly index: number;
  readonly unit: ShallowRef<Unit>;
}
export interface OpenJob {
  detail: JobDetail | null;
  units: UnitCell[];
  error: string;
}

function cellFor(entry: OpenJob, index: number): UnitCell | undefined {
  const guess = entry.units[index];
  return guess?.index === index ? guess : entry.units.find((c) => c.index === index);
}

// A new cell at its place in unit order (messages can come before the job is read).
function addCell(entry: OpenJob, unit: Unit): void {
  const cell: UnitCell = { index: unit.index, unit: shallowRef(unit) };
  const at = entry.units.findIndex((c) => c.index > unit.index);
  if (at < 0) {
    entry.units.push(cell);
  } else {
    entry.units.splice(at, 0, cell);
  }
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
    entry = shallowReactive<OpenJob>({ detail: null, units: shallowReactive<UnitCell[]>([]), error: '' });
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
      const cell = cellFor(entry, fresh.index);
      if (!cell) {
        addCell(entry, Object.freeze({ ...fresh }));
      } else if (!keepOld(cell.unit.value, fresh)) {
        cell.unit.value = Object.freeze({ ...fresh });
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
function scheduleListReload(delayMs = 500): void {
  if (listTimer) {
    return;
  }
  listTimer = setTimeout(() => {
    listTimer = null;
    void loadJobs();
  }, delayMs);
}

// The master sends a job's summary when the job starts and ends, not on every unit; the counts
// of an open job follow its units' transitions here, exactly, since the previous state is known.
function countTransition(jobId: string, from: UnitState | undefined, to: UnitState): void {
  const index = jobs.list.findIndex((j) => j.id === jobId);
  if (index < 0 || from === to) {
    return;
  }
  const by = { ...jobs.list[index].units_by_state };
  if (from) {
    by[from] = Math.max(0, (by[from] ?? 0) - 1);
  }
  by[to] = (by[to] ?? 0) + 1;
  jobs.list[index] = { ...jobs.list[index], units_by_state: by };
}

function stripDetail(job: Partial<JobSummary> & { id: string }): Partial<JobSummary> & { id: string } {
  const { units: _u, outputs: _o, prompt: _p, ...summary } = job as Partial<JobDetail> & { id: string };
  return summary;
}

// Outputs are re-read at most once a second per job while its units finish, less often for a
// large job (every 100 units add a second): each re-read carries every unit.
const reloadTimers = new Map<string, ReturnType<typeof setTimeout>>();

function reloadInterval(entry: OpenJob): number {
  return 1000 * Math.max(1, Math.ceil(entry.units.length / 100));
}

function scheduleReload(id: string, soon = false): void {
  const entry = openJobs.get(id);
  if (!entry || reloadTimers.has(id)) {
    return;
  }
  reloadTimers.set(
    id,
    setTimeout(
      () => {
        reloadTimers.delete(id);
        void reloadJob(id);
      },
      soon ? 300 : reloadInterval(entry),
    ),
  );
}

const unitBatch = new FrameBatcher<UnitMessage>((messages) => {
  for (const m of messages) {
    const entry = openJobs.get(m.prompt_id);
    if (!entry) {
      // A job nobody opened: its counts in the list come from a re-read, every few seconds.
      scheduleListReload(2000);
      continue;
    }
    const index = typeof m.index === 'number' ? m.index : m.unit;
    const cell = cellFor(entry, index);
    const previous = cell?.unit.value;
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
      cell.unit.value = unit;
    } else {
      addCell(entry, unit);
    }
    countTransition(m.prompt_id, previous?.state, unit.state);
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
      // The job's own outputs exist now: read them without waiting for the next slot.
      const pending = reloadTimers.get(id);
      if (pending) {
        clearTimeout(pending);
        reloadTimers.delete(id);
      }
      scheduleReload(id, true);
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
