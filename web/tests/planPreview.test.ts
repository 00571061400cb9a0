// The Run view's plan preview follows the planner's rules (design.md §3).
import { describe, expect, it } from 'vitest';
import type { ApiPrompt, Worker, WorkerState } from '../src/api/types';
import { MODE_LABELS, previewPlan, TILE_UNITS_TEXT } from '../src/logic/planPreview';
import fanOut from '../../examples/fan_out.json';
import pipeline from '../../examples/image_pipeline.json';
import upscale from '../../tests/e2e/fixtures/tiled_upscale.json';

const worker = (id: string, state: WorkerState, enabled = true, last_error: string | null = null): Worker => ({
  id,
  name: `W${id}`,
  type: 'local',
  host: '',
  port: 8189,
  cuda_device: null,
  extra_args: '',
  enabled,
  engine: 'native',
  state,
  queue_remaining: 0,
  last_error,
  pid: null,
  devices: [],
  url: '',
});

describe('previewPlan', () => {
  const workers = [worker('1', 'idle'), worker('2', 'busy'), worker('3', 'offline', true, 'connection refused'), worker('4', 'disabled', false)];

  it('fans out one unit per enabled worker by default', () => {
    const plan = previewPlan(fanOut as ApiPrompt, workers);
    expect(plan.mode).toBe('fan_out');
    expect(plan.units).toBe(3);
    expect(plan.nodes.map((n) => n.classType).sort()).toEqual(['DistributedCollector', 'DistributedSeed']);
    expect(plan.masterNodes).toEqual(['SaveImage (5)']);
  });

  it('uses count when given', () => {
    expect(previewPlan(fanOut as ApiPrompt, workers, { count: 8 }).units).toBe(8);
  });

  it('says which workers can run units and why the others cannot', () => {
    const plan = previewPlan(fanOut as ApiPrompt, workers);
    const byId = Object.fromEntries(plan.workers.map((w) => [w.id, w]));
    expect(byId['1'].canRun).toBe(true);
    expect(byId['2'].canRun).toBe(true);
    expect(byId['3']).toMatchObject({ canRun: false, reason: 'offline: connection refused' });
    expect(byId['4']).toMatchObject({ canRun: false, reason: 'disabled' });
  });

  it('counts only the selected workers', () => {
    const plan = previewPlan(fanOut as ApiPrompt, workers, { selected: new Set(['1']) });
    expect(plan.units).toBe(1);
    expect(plan.workers.find((w) => w.id === '2')?.reason).toBe('not selected for this run');
  });

  it('runs a workflow without distributed nodes once', () => {
    const plan = previewPlan(pipeline as ApiPrompt, workers);
    expect(plan.mode).toBe('single');
    expect(plan.units).toBe(1);
    expect(plan.usesCount).toBe(false);
  });

  it('load-balances when a collector asks for it', () => {
    const prompt = structuredClone(fanOut) as ApiPrompt;
    prompt['4'].inputs.load_balance = true;
    expect(previewPlan(prompt, workers).mode).toBe('load_balanced');
  });

  it('reports nodes no worker offers and a cluster with no usable worker', () => {
    const plan = previewPlan(fanOut as ApiPrompt, [worker('9', 'offline')], {
      knownClasses: new Set(['EmptyImage', 'ImageAddNoise', 'SaveImage', 'DistributedSeed']),
    });
    expect(plan.problems).toContain('No worker offers DistributedCollector (node 4).');
    expect(plan.problems.some((p) => p.includes('No worker can take units'))).toBe(true);
  });

  it('counts units when it can, in words too', () => {
    expect(previewPlan(fanOut as ApiPrompt, workers, { count: 8 }).unitsText).toBe('8');
    expect(previewPlan(pipeline as ApiPrompt, workers).unitsText).toBe('1');
  });

  it('runs an upscale whole unless tiles are asked for', () => {
    const plan = previewPlan(upscale as ApiPrompt, workers);
    expect(plan.mode).toBe('single');
    expect(plan.units).toBe(1);
    expect(plan.inputStepNodes).toEqual([]);
  });

  it('plans one unit per tile when tiles are asked for, without a count', () => {
    const plan = previewPlan(upscale as ApiPrompt, workers, { tiles: true, count: 8 });
    expect(plan.mode).toBe('tiles');
    expect(plan.units).toBeNull();
    expect(plan.unitsText).toBe(TILE_UNITS_TEXT);
    expect(TILE_UNITS_TEXT).toBe('one unit per tile (the tile count is known once the master has the input image)');
    expect(plan.usesCount).toBe(false);
    // The blended image goes on to the nodes after the upscale, on the master.
    expect(plan.masterNodes).toEqual(['SaveImage (4)']);
    // The input step makes the image to cut before there are units.
    expect(plan.inputStepNodes).toEqual(['LoadImage (1)']);
    expect(plan.problems).toEqual([]);
    expect(MODE_LABELS[plan.mode]).toMatch(/^tiles — /);
  });

  it('plans tiles for a workflow with a DistributedTiles node, and lists the node', () => {
    const prompt = structuredClone(upscale) as ApiPrompt;
    prompt['9'] = { class_type: 'DistributedTiles', inputs: { image: ['1', 0], tile: 48, overlap: 8, feather: 'linear' } };
    prompt['3'].inputs.image = ['9', 0];
    const plan = previewPlan(prompt, workers);
    expect(plan.mode).toBe('tiles');
    expect(plan.unitsText).toBe(TILE_UNITS_TEXT);
    expect(plan.inputStepNodes).toEqual(['LoadImage (1)']);
    expect(plan.nodes).toEqual([
      { id: '9', classType: 'DistributedTiles', note: 'tiles the upscale of its image: tile 48, overlap 8, feather linear' },
    ]);
  });

  it('does not tile a fan-out workflow, and says why the master would refuse a DistributedTiles node in one', () => {
    expect(previewPlan(fanOut as ApiPrompt, workers, { tiles: true }).mode).toBe('fan_out');
    const prompt = structuredClone(fanOut) as ApiPrompt;
    prompt['11'] = { class_type: 'UpscaleModelLoader', inputs: { model_name: 'esrgan-slim-x2' } };
    prompt['12'] = { class_type: 'DistributedTiles', inputs: { image: ['4', 0] } };
    prompt['13'] = { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['11', 0], image: ['12', 0] } };
    const plan = previewPlan(prompt, workers);
    expect(plan.mode).toBe('fan_out');
    expect(plan.problems).toContain(
      'A tiled upscale cannot be combined with DistributedSeed or DistributedCollector in one job.',
    );
  });

  it('reports a DistributedTiles node’s settings the master refuses', () => {
    const prompt = structuredClone(upscale) as ApiPrompt;
    prompt['9'] = { class_type: 'DistributedTiles', inputs: { image: ['1', 0], tile: 4, overlap: 8 } };
    prompt['3'].inputs.image = ['9', 0];
    expect(previewPlan(prompt, workers).problems).toEqual(['DistributedTiles 9: The tile must be 8 to 4096 pixels.']);
  });
});
