// The Run view's preview of how the master will distribute a workflow, computed in the browser
// from the workflow and the live worker list with the planner's rules (design.md §3). It is a
// preview: the master plans for real when the job is queued, and its pre-flight check of each
// worker's nodes and models can still skip workers (the job then says why).
import type { ApiPrompt, JobMode, Worker } from '../api/types';
import { isLink } from './workflowFile';

export interface DistributedNode {
  id: string;
  classType: string;
  note: string;
}

export interface WorkerEligibility {
  id: string;
  name: string;
  canRun: boolean;
  reason: string;
}

export interface PlanPreview {
  mode: JobMode;
  units: number;
  usesCount: boolean;
  nodes: DistributedNode[];
  // Nodes the master runs itself once the units are in (downstream of a collector).
  masterNodes: string[];
  workers: WorkerEligibility[];
  problems: string[];
}

export interface PlanOptions {
  count?: number | null;
  // Workers the user left ticked; all when absent.
  selected?: Set<string>;
  // Node classes the cluster offers (GET /object_info); unchecked when absent.
  knownClasses?: Set<string>;
}

export const DISTRIBUTED_CLASSES = new Set([
  'DistributedSeed',
  'DistributedCollector',
  'DistributedValue',
  'ImageBatchDivider',
]);

function distributedNote(classType: string, inputs: Record<string, unknown>): string {
  switch (classType) {
    case 'DistributedSeed':
      return typeof inputs.seed === 'number'
        ? `seed ${inputs.seed}: unit j gets ${inputs.seed} + j`
        : 'its seed must be a literal integer';
    case 'DistributedCollector':
      return inputs.load_balance === true
        ? 'load balance: the whole workflow runs once, on the least busy worker'
        : 'gathers every unit’s images in unit order';
    case 'DistributedValue':
      return 'gives each unit its own value';
    case 'ImageBatchDivider':
      return 'splits an image batch into parts';
    default:
      return '';
  }
}

// Every node that depends on one of `roots` (the roots included).
function downstreamOf(prompt: ApiPrompt, roots: string[]): Set<string> {
  const out = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, node] of Object.entries(prompt)) {
      if (out.has(id)) {
        continue;
      }
      if (Object.values(node.inputs ?? {}).some((v) => isLink(v) && out.has(v[0]))) {
        out.add(id);
        grew = true;
      }
    }
  }
  return out;
}

function eligibility(worker: Worker, selected: Set<string> | undefined): WorkerEligibility {
  const base = { id: worker.id, name: worker.name };
  if (!worker.enabled || worker.state === 'disabled') {
    return { ...base, canRun: false, reason: 'disabled' };
  }
  if (selected && !selected.has(worker.id)) {
    return { ...base, canRun: false, reason: 'not selected for this run' };
  }
  switch (worker.state) {
    case 'idle':
      return { ...base, canRun: true, reason: 'online, idle' };
    case 'busy':
      return { ...base, canRun: true, reason: `online, ${worker.queue_remaining} in its queue` };
    case 'launching':
      return { ...base, canRun: true, reason: 'still starting: takes units once it answers' };
    case 'stopped':
      return { ...base, canRun: false, reason: 'not running: Launch it first' };
    case 'stopping':
      return { ...base, canRun: false, reason: 'stopping' };
    default:
      return {
        ...base,
        canRun: false,
        reason: worker.last_error ? `${worker.state}: ${worker.last_error}` : worker.state,
      };
  }
}

export function previewPlan(prompt: ApiPrompt, workers: Worker[], options: PlanOptions = {}): PlanPreview {
  const nodes: DistributedNode[] = [];
  const problems: string[] = [];
  const collectors: string[] = [];
  let hasSeed = false;
  let loadBalance = false;
  for (const [id, node] of Object.entries(prompt)) {
    const inputs = node.inputs ?? {};
    if (DISTRIBUTED_CLASSES.has(node.class_type)) {
      nodes.push({ id, classType: node.class_type, note: distributedNote(node.class_type, inputs) });
    }
    if (node.class_type === 'DistributedCollector') {
      collectors.push(id);
      loadBalance = loadBalance || inputs.load_balance === true;
      if (!isLink(inputs.images)) {
        problems.push(`DistributedCollector ${id} has no images linked to it.`);
      }
    } else if (node.class_type === 'DistributedSeed') {
      hasSeed = true;
    }
    if (options.knownClasses && !options.knownClasses.has(node.class_type)) {
      problems.push(`No worker offers ${node.class_type} (node ${id}).`);
    }
  }

  const eligible = workers.map((w) => eligibility(w, options.selected));
  const usable = eligible.filter((w) => w.canRun).length;
  let mode: JobMode;
  let units = 1;
  let usesCount = false;
  let masterNodes: string[] = [];
  if (loadBalance) {
    mode = 'load_balanced';
  } else if (!hasSeed && collectors.length === 0) {
    mode = 'single';
  } else {
    mode = 'fan_out';
    usesCount = true;
    const selectedEnabled = workers.filter(
      (w) => w.enabled && (!options.selected || options.selected.has(w.id)),
    ).length;
    units = options.count && options.count > 0 ? options.count : Math.max(1, selectedEnabled);
    if (collectors.length > 0) {
      masterNodes = [...downstreamOf(prompt, collectors)]
        .filter((id) => !collectors.includes(id))
        .map((id) => `${prompt[id].class_type} (${id})`);
    }
  }
  if (usable === 0) {
    problems.push('No worker can take units now: the job will wait until one comes online.');
  }
  return { mode, units, usesCount, nodes, masterNodes, workers: eligible, problems };
}

export const MODE_LABELS: Record<JobMode, string> = {
  single: 'single — the whole workflow on one worker',
  load_balanced: 'load-balanced — the whole workflow on the least busy worker',
  fan_out: 'fan-out — one unit per seed variant, results gathered in unit order',
};
