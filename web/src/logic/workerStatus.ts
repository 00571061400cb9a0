// How a worker's state is shown: a colour tone, a short label and a tooltip with the reason
// (design.md §2 states; the tooltip carries the master's last_error when there is one).
import type { Worker, WorkerState } from '../api/types';

// Tones map to CSS colours: ok green, busy amber, pending amber pulsing, error red, off grey.
export type StatusTone = 'ok' | 'busy' | 'pending' | 'error' | 'off';

export interface StatusView {
  tone: StatusTone;
  label: string;
  tooltip: string;
}

const BASE: Record<WorkerState, { tone: StatusTone; label: string; meaning: string }> = {
  idle: { tone: 'ok', label: 'Idle', meaning: 'Online and idle' },
  busy: { tone: 'busy', label: 'Busy', meaning: 'Online and working' },
  launching: { tone: 'pending', label: 'Launching', meaning: 'Started; waiting for its first answer' },
  stopping: { tone: 'pending', label: 'Stopping', meaning: 'Asked to stop' },
  offline: { tone: 'error', label: 'Offline', meaning: 'Does not answer the master' },
  crashed: { tone: 'error', label: 'Crashed', meaning: 'The process ended or never came up' },
  stopped: { tone: 'off', label: 'Stopped', meaning: 'Not running; Launch starts it' },
  disabled: { tone: 'off', label: 'Disabled', meaning: 'Not used; enable it to use it' },
};

export function workerStatus(worker: Pick<Worker, 'state' | 'queue_remaining' | 'last_error'>): StatusView {
  const base = BASE[worker.state] ?? { tone: 'error', label: worker.state, meaning: 'Unknown state' };
  let label = base.label;
  let meaning = base.meaning;
  if (worker.state === 'busy' && worker.queue_remaining > 0) {
    label = `Busy (${worker.queue_remaining} queued)`;
    meaning = `Online, ${worker.queue_remaining} in its queue`;
  }
  const tooltip = worker.last_error ? `${meaning}. Last error: ${worker.last_error}` : meaning;
  return { tone: base.tone, label, tooltip };
}

// Whether the worker answers probes (and can take units).
export function isOnline(worker: Pick<Worker, 'state'>): boolean {
  return worker.state === 'idle' || worker.state === 'busy';
}
