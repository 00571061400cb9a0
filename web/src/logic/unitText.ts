// Units and jobs in plain words: what a progress bar's label and a job's summary line say.
import type { JobState, JobSummary, Unit } from '../api/types';
import { formatDuration } from './format';

export function unitLabel(unit: Unit): string {
  const worker = unit.worker_name || 'a worker';
  const retry = unit.attempts > 1 ? ` (attempt ${unit.attempts})` : '';
  switch (unit.state) {
    case 'pending': {
      const last = unit.errors.at(-1);
      return last ? `waiting for another worker after: ${last.message}` : 'waiting for a worker';
    }
    case 'dispatched': {
      const p = unit.progress;
      const step = p && p.max > 0 ? ` · step ${p.value}/${p.max}` : '';
      return `running on ${worker}${retry}${step}`;
    }
    case 'done': {
      const took =
        unit.started_at && unit.finished_at ? ` in ${formatDuration(unit.finished_at - unit.started_at)}` : '';
      return `done on ${worker}${took}${retry}`;
    }
    case 'failed': {
      const last = unit.errors.at(-1);
      const tries = unit.attempts === 1 ? '1 attempt' : `${unit.attempts} attempts`;
      return `failed after ${tries}${last ? `: ${last.message}` : ''}`;
    }
    default:
      return unit.state;
  }
}

// Fraction of the unit's bar that is filled (0..1).
export function unitFraction(unit: Unit): number {
  if (unit.state === 'done') {
    return 1;
  }
  if (unit.state === 'dispatched' && unit.progress && unit.progress.max > 0) {
    return Math.min(1, Math.max(0, unit.progress.value / unit.progress.max));
  }
  return 0;
}

export const JOB_STATE_LABELS: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  partial: 'Partly done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function isFinished(state: JobState): boolean {
  return state === 'done' || state === 'partial' || state === 'failed' || state === 'cancelled';
}

export function jobCounts(job: Pick<JobSummary, 'unit_count' | 'units_by_state'>): string {
  const by = job.units_by_state ?? {};
  const parts = [`${by.done ?? 0}/${job.unit_count} done`];
  if (by.dispatched) parts.push(`${by.dispatched} running`);
  if (by.pending) parts.push(`${by.pending} waiting`);
  if (by.failed) parts.push(`${by.failed} failed`);
  return parts.join(' · ');
}
