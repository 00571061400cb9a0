// Gallery images carry the unit, worker and seed they came from.
import { describe, expect, it } from 'vitest';
import type { ApiPrompt, JobDetail, Unit } from '../src/api/types';
import { galleryImages } from '../src/logic/galleryImages';
import { imageCaption } from '../src/logic/imageCaption';
import fanOut from '../../examples/fan_out.json';
import upscale from '../../tests/e2e/fixtures/tiled_upscale.json';

const unit = (index: number, worker: string, files: string[]): Unit => ({
  index,
  state: 'done',
  worker_id: worker,
  worker_name: `GPU ${worker}`,
  attempts: 1,
  errors: [],
  progress: null,
  started_at: 1,
  finished_at: 2,
  outputs: files.map((filename) => ({ node_id: '4', filename, subfolder: '', type: 'temp' })),
});

function job(units: Unit[], outputs: JobDetail['outputs']): JobDetail {
  return {
    id: 'j',
    number: 1,
    state: 'done',
    mode: 'fan_out',
    created_at: 0,
    started_at: 0,
    finished_at: 1,
    error: null,
    unit_count: units.length,
    units_by_state: { done: units.length },
    skipped_workers: {},
    units,
    outputs,
    prompt: fanOut as ApiPrompt,
  };
}

describe('galleryImages', () => {
  it('matches the saved images to units in unit order', () => {
    const saved = ['a', 'b', 'c'].map((n) => ({ filename: `noise_${n}.png`, subfolder: 'fan_out', type: 'output' }));
    // Units finished out of order; the collector still gathers in unit order.
    const images = galleryImages(job([unit(2, '1', ['u2.png']), unit(0, '0', ['u0.png']), unit(1, '1', ['u1.png'])], { '5': { images: saved } }));
    expect(images.map((i) => i.image.filename)).toEqual(['noise_a.png', 'noise_b.png', 'noise_c.png']);
    expect(images.map((i) => i.unitIndex)).toEqual([0, 1, 2]);
    expect(images.map((i) => i.seed)).toEqual([1000, 1001, 1002]);
    expect(imageCaption(images[0])).toBe('unit 1 · GPU 0 · seed 1000');
  });

  it('shows the units’ images while the job has none of its own', () => {
    const images = galleryImages(job([unit(0, '0', ['u0.png']), unit(1, '1', ['u1.png'])], {}));
    expect(images.map((i) => [i.image.filename, i.unitIndex])).toEqual([
      ['u0.png', 0],
      ['u1.png', 1],
    ]);
  });

  it('leaves the unit unknown when counts do not match', () => {
    const images = galleryImages(job([unit(0, '0', ['u0.png'])], { '5': { images: [{ filename: 'x.png', subfolder: '', type: 'output' }, { filename: 'y.png', subfolder: '', type: 'output' }] } }));
    expect(images.map((i) => i.unitIndex)).toEqual([null, null]);
    expect(imageCaption(images[0])).toBe('node 5');
  });

  it('shows a tiled job’s blended image, and its tiles only while it has none', () => {
    const tile = (index: number): Unit => ({
      ...unit(index, '0', []),
      outputs: [{ node_id: 'tiles.preview', filename: `u${index}_tiles.preview_0.png`, subfolder: 'collected/j', type: 'temp' }],
    });
    const tiled = (outputs: JobDetail['outputs']): JobDetail => ({
      ...job([tile(0), tile(1)], outputs),
      mode: 'tiles',
      prompt: upscale as ApiPrompt,
    });
    const done = galleryImages(tiled({ '4': { images: [{ filename: 'tiled_00001_.png', subfolder: 'e2e', type: 'output' }] } }));
    expect(done.map((i) => i.image.filename)).toEqual(['tiled_00001_.png']);
    expect(galleryImages(tiled({})).map((i) => [i.image.filename, i.unitIndex])).toEqual([
      ['u0_tiles.preview_0.png', 0],
      ['u1_tiles.preview_0.png', 1],
    ]);
  });
});
