// The Run view's preview of how the master will distribute a workflow, computed in the browser
// from the workflow and the live worker list with the planner's rules (design.md §3). It is a
// preview: the master plans for real when the job is queued, and its pre-flight check of each
// worker's nodes and models can still skip workers (the job then says why).
import type { ApiPrompt, JobMode, Worker } from '../api/types';
import { describeTileSettings, detectTiling, inputStepNodes, nodeTileSettings } from './tileOptions';
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
  // Null when the master alone can tell (a tiled job: one unit per tile of an image it computes).
  units: number | null;
  // The units in words, for the view.
  unitsText: string;
  usesCount: boolean;
  nodes: DistributedNode[];
  // Nodes the master runs itself once the units are in (downstream of a collector or of the
  // tiled upscale).
  masterNodes: string[];
  // A tiled job's input step: the nodes that make the image to cut, run before there are units
  // (by the master, or by a worker when the master's engine lacks one of them).
  inputStepNodes: string[];
  workers: WorkerEligibility[];
  problems: string[];
}

export interface PlanOptions {
  count?: number | null;
  // Workers the user left ticked; all when absent.
  selected?: Set<string>;
  // Node classes the cluster offers (GET /object_info); unchecked when absent.
  knownClasses?: Set<string>;
  // The user asked to split the upscale into tiles (the request's `tiles` option).
  tiles?: boolean;
}

export const DISTRIBUTED_CLASSES = new Set([
  'DistributedSeed',
  'DistributedCollector',
  'DistributedValue',
  'ImageBatchDivider',
  'DistributedTiles',
]);

export const TILE_UNITS_TEXT = 'one unit per tile (the tile count is known once the master has the input image)';

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
    case 'DistributedTiles':
      return `tiles the upscale of its image: ${describeTileSettings(nodeTileSettings(inputs))}`;
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

  const tiling = detectTiling(prompt);
  problems.push(...tiling.problems);
  // The ImageUpscaleWithModel the master will tile, if any (never with fan-out: it refuses that).
  const tiledUpscale =
    (tiling.kind === 'node' || (tiling.kind === 'option' && options.tiles)) && !hasSeed && collectors.length === 0
      ? tiling.upscaleId
      : null;

  const eligible = workers.map((w) => eligibility(w, options.selected));
  const usable = eligible.filter((w) => w.canRun).length;
  let mode: JobMode;
  let units: number | null = 1;
  let usesCount = false;
  let masterNodes: string[] = [];
  let inputStep: string[] = [];
  const described = (id: string) => `${prompt[id].class_type} (${id})`;
  if (tiledUpscale !== null) {
    // The input step makes the image to cut; the nodes after the upscale run on the master.
    mode = 'tiles';
    units = null;
    masterNodes = [...downstreamOf(prompt, [tiledUpscale])].filter((id) => id !== tiledUpscale).map(described);
    inputStep = inputStepNodes(prompt, tiling).map(described);
  } else if (loadBalance) {
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
        .map(described);
    }
  }
  if (usable === 0) {
    problems.push('No worker can take units now: the job will wait until one comes online.');
  }
  const unitsText = units === null ? TILE_UNITS_TEXT : String(units);
  return { mode, units, unitsText, usesCount, nodes, masterNodes, inputStepNodes: inputStep, workers: eligible, problems };
}

export const MODE_LABELS: Record<JobMode, string> = {
  single: 'single — the whole workflow on one worker',
  load_balanced: 'load-balanced — the whole workflow on the least busy worker',
  fan_out: 'fan-out — one unit per seed variant, results gathered in unit order',
  tiles: 'tiles — the image cut into tiles that the workers upscale, blended back on the master',
};
