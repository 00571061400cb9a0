// Tiled upscaling in the Run view (docs/tiles.md): whether a workflow can be split into tiles
// across the workers (the request's `tiles` option) or already is (a DistributedTiles node), and
// the master's rules for the tile settings, checked in the browser before queueing.
import type { ApiPrompt, Feather, TileRequest } from '../api/types';
import { isLink } from './workflowFile';

export const UPSCALE_CLASS = 'ImageUpscaleWithModel';
export const TILES_CLASS = 'DistributedTiles';
// Fan-out nodes: a job has one mode, so these and tiles do not mix.
const FAN_OUT_CLASSES = new Set(['DistributedSeed', 'DistributedCollector']);

export const TILE_MIN = 8;
export const TILE_MAX = 4096;
export const FEATHERS: readonly Feather[] = ['linear', 'cosine'];

export interface TileSettings {
  tile: number;
  overlap: number;
  feather: Feather;
}

export const DEFAULT_TILE_SETTINGS: TileSettings = { tile: 512, overlap: 64, feather: 'linear' };

// What the Run view can do about tiles for a workflow:
// - 'option': one ImageUpscaleWithModel, no DistributedTiles, no fan-out: the panel may offer
//   "Split into tiles across workers" and send `tiles` with the request;
// - 'node': a DistributedTiles node feeds the upscale: the master tiles it with the node's settings;
// - 'none': nothing to tile, or the workflow fans out.
// `problems` are what the master will refuse (in the words of a preview).
export type Tiling =
  | { kind: 'option'; upscaleId: string; problems: string[] }
  | { kind: 'node'; nodeId: string; upscaleId: string; settings: NodeTileSettings; problems: string[] }
  | { kind: 'none'; problems: string[] };

// A DistributedTiles node's widgets as written (missing ones take the node's defaults).
export interface NodeTileSettings {
  tile: unknown;
  overlap: unknown;
  feather: unknown;
}

// Every node `id` depends on, directly or not.
function ancestorsOf(prompt: ApiPrompt, id: string): Set<string> {
  const out = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const node = prompt[stack.pop() as string];
    for (const value of Object.values(node?.inputs ?? {})) {
      if (isLink(value) && !out.has(value[0]) && prompt[value[0]]) {
        out.add(value[0]);
        stack.push(value[0]);
      }
    }
  }
  return out;
}

export function nodeTileSettings(inputs: Record<string, unknown>): NodeTileSettings {
  return {
    tile: inputs.tile ?? DEFAULT_TILE_SETTINGS.tile,
    overlap: inputs.overlap ?? DEFAULT_TILE_SETTINGS.overlap,
    feather: inputs.feather ?? DEFAULT_TILE_SETTINGS.feather,
  };
}

export function detectTiling(prompt: ApiPrompt): Tiling {
  const upscales: string[] = [];
  const tilesNodes: string[] = [];
  let fanOut = false;
  for (const [id, node] of Object.entries(prompt)) {
    if (node.class_type === UPSCALE_CLASS) {
      upscales.push(id);
    } else if (node.class_type === TILES_CLASS) {
      tilesNodes.push(id);
    } else if (FAN_OUT_CLASSES.has(node.class_type)) {
      fanOut = true;
    }
  }
  if (tilesNodes.length === 0) {
    return upscales.length === 1 && !fanOut
      ? { kind: 'option', upscaleId: upscales[0], problems: [] }
      : { kind: 'none', problems: [] };
  }

  const problems: string[] = [];
  // upscale id → the DistributedTiles nodes upstream of it.
  const fed = upscales
    .map((upscaleId) => {
      const upstream = ancestorsOf(prompt, upscaleId);
      return { upscaleId, tiles: tilesNodes.filter((t) => upstream.has(t)) };
    })
    .filter((f) => f.tiles.length > 0);
  if (fed.length === 0) {
    return {
      kind: 'none',
      problems: tilesNodes.map(
        (id) => `DistributedTiles ${id} feeds no ImageUpscaleWithModel: nothing is tiled.`,
      ),
    };
  }
  if (fed.length > 1) {
    problems.push(`Only one ImageUpscaleWithModel per job can be tiled; ${fed.length} are fed by DistributedTiles.`);
  }
  const { upscaleId, tiles } = fed[0];
  if (tiles.length > 1) {
    problems.push(`ImageUpscaleWithModel ${upscaleId} is fed by more than one DistributedTiles node (${tiles.join(', ')}).`);
  }
  if (fanOut) {
    problems.push('A tiled upscale cannot be combined with DistributedSeed or DistributedCollector in one job.');
  }
  const nodeId = tiles[0];
  const inputs = prompt[nodeId].inputs ?? {};
  const linked = (['tile', 'overlap', 'feather'] as const).filter((key) => isLink(inputs[key]));
  for (const key of linked) {
    problems.push(`DistributedTiles ${nodeId}: ${key} must be a value, not a link.`);
  }
  const settings = nodeTileSettings(inputs);
  if (linked.length === 0) {
    const check = checkTileSettings(settings);
    for (const message of Object.values(check.errors)) {
      problems.push(`DistributedTiles ${nodeId}: ${message}`);
    }
  }
  return { kind: 'node', nodeId, upscaleId, settings, problems };
}

// The nodes of the master's input step (docs/tiles.md): everything the tiled image comes from,
// which the master runs itself to cut the image. Empty when the image is not linked.
export function inputStepNodes(prompt: ApiPrompt, tiling: Tiling): string[] {
  if (tiling.kind === 'none') {
    return [];
  }
  const imageOf = tiling.kind === 'node' ? tiling.nodeId : tiling.upscaleId;
  const image = prompt[imageOf]?.inputs?.image;
  if (!isLink(image) || !prompt[image[0]]) {
    return [];
  }
  return [image[0], ...ancestorsOf(prompt, image[0])].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

// Problems with the fields, by field name; empty when the settings are valid.
export interface TileErrors {
  tile?: string;
  overlap?: string;
  feather?: string;
}

// A whole number as typed in a field (or given in a workflow); null otherwise.
function wholeNumber(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? value : null;
  }
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) {
    return Number(value);
  }
  return null;
}

// The master's rules (POST /distributed/queue answers 400 invalid_tiles otherwise): tile within
// 8…4096, overlap at least 0 and smaller than the tile, the tile at least twice the overlap,
// feather linear or cosine.
export function checkTileSettings(input: { tile: unknown; overlap: unknown; feather: unknown }): {
  settings: TileSettings | null;
  errors: TileErrors;
} {
  const errors: TileErrors = {};
  const tile = wholeNumber(input.tile);
  const overlap = wholeNumber(input.overlap);
  if (tile === null) {
    errors.tile = 'The tile must be a whole number of pixels.';
  } else if (tile < TILE_MIN || tile > TILE_MAX) {
    errors.tile = `The tile must be ${TILE_MIN} to ${TILE_MAX} pixels.`;
  }
  if (overlap === null) {
    errors.overlap = 'The overlap must be a whole number of pixels.';
  } else if (overlap < 0) {
    errors.overlap = 'The overlap cannot be negative.';
  } else if (tile !== null && !errors.tile) {
    if (overlap >= tile) {
      errors.overlap = `The overlap must be smaller than the tile (${tile}).`;
    } else if (tile < 2 * overlap) {
      errors.overlap = `The overlap can be at most half the tile (${Math.floor(tile / 2)}).`;
    }
  }
  const feather = FEATHERS.find((f) => f === input.feather);
  if (!feather) {
    errors.feather = 'Feather must be linear or cosine.';
  }
  const valid = Object.keys(errors).length === 0 && tile !== null && overlap !== null && feather;
  return { settings: valid ? { tile, overlap, feather } : null, errors };
}

// The request's `tiles` body option for valid settings.
export function tileRequest(settings: TileSettings): TileRequest {
  return { tile: settings.tile, overlap: settings.overlap, feather: settings.feather };
}

// "tile 512, overlap 64, feather linear" for a node's settings as written.
export function describeTileSettings(settings: NodeTileSettings | TileSettings): string {
  const show = (v: unknown) => (isLink(v) ? `a link to node ${v[0]}` : String(v));
  return `tile ${show(settings.tile)}, overlap ${show(settings.overlap)}, feather ${show(settings.feather)}`;
}
