// The Run view's plan preview follows the planner's rules (design.md §3).
import { describe, expect, it } from 'vitest';
import type { ApiPrompt, Worker, WorkerState } from '../src/api/types';
import { previewPlan } from '../src/logic/planPreview';
import fanOut from '../../examples/fan_out.json';
import pipeline from '../../examples/image_pipeline.json';

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
});
