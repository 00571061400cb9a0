// Which workflows the Run view offers to split into tiles, and the master's rules for the tile
// settings (docs/tiles.md), checked before queueing.
import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '../src/api/types';
import { checkTileSettings, describeTileSettings, detectTiling, inputStepNodes, tileRequest } from '../src/logic/tileOptions';
import fanOut from '../../examples/fan_out.json';
import pipeline from '../../examples/image_pipeline.json';
import upscale from '../../tests/e2e/fixtures/tiled_upscale.json';

// LoadImage → UpscaleModelLoader → ImageUpscaleWithModel → SaveImage, optionally with a
// DistributedTiles node between the image and the upscale.
function upscaleWorkflow(tilesInputs?: Record<string, unknown>): ApiPrompt {
  const prompt = structuredClone(upscale) as ApiPrompt;
  if (tilesInputs) {
    prompt['9'] = { class_type: 'DistributedTiles', inputs: { image: ['1', 0], ...tilesInputs } };
    prompt['3'].inputs.image = ['9', 0];
  }
  return prompt;
}

describe('detectTiling', () => {
  it('offers tiles for a workflow with one ImageUpscaleWithModel', () => {
    expect(detectTiling(upscaleWorkflow())).toEqual({ kind: 'option', upscaleId: '3', problems: [] });
  });

  it('offers nothing without an upscale node, or with several', () => {
    expect(detectTiling(pipeline as ApiPrompt).kind).toBe('none');
    const two = upscaleWorkflow();
    two['5'] = { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['2', 0], image: ['1', 0] } };
    expect(detectTiling(two).kind).toBe('none');
  });

  it('offers nothing for a fan-out workflow', () => {
    const prompt = structuredClone(fanOut) as ApiPrompt;
    prompt['11'] = { class_type: 'UpscaleModelLoader', inputs: { model_name: 'esrgan-slim-x2' } };
    prompt['12'] = { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['11', 0], image: ['4', 0] } };
    expect(detectTiling(prompt)).toEqual({ kind: 'none', problems: [] });
  });

  it('reads a DistributedTiles node’s settings, defaults for the missing ones', () => {
    const tiling = detectTiling(upscaleWorkflow({ tile: 48, overlap: 8, feather: 'cosine' }));
    expect(tiling).toEqual({
      kind: 'node',
      nodeId: '9',
      upscaleId: '3',
      settings: { tile: 48, overlap: 8, feather: 'cosine' },
      problems: [],
    });
    const defaults = detectTiling(upscaleWorkflow({}));
    expect(defaults.kind === 'node' && describeTileSettings(defaults.settings)).toBe(
      'tile 512, overlap 64, feather linear',
    );
  });

  it('finds a DistributedTiles node that feeds the upscale through other nodes', () => {
    const prompt = upscaleWorkflow({ tile: 64, overlap: 16 });
    prompt['10'] = { class_type: 'ImageInvert', inputs: { image: ['9', 0] } };
    prompt['3'].inputs.image = ['10', 0];
    expect(detectTiling(prompt)).toMatchObject({ kind: 'node', nodeId: '9', upscaleId: '3' });
  });

  it('reports what the master will refuse about a DistributedTiles node', () => {
    expect(detectTiling(upscaleWorkflow({ tile: 48, overlap: 30 })).problems).toEqual([
      'DistributedTiles 9: The overlap can be at most half the tile (24).',
    ]);
    expect(detectTiling(upscaleWorkflow({ tile: ['1', 0] })).problems).toEqual([
      'DistributedTiles 9: tile must be a value, not a link.',
    ]);
    const withFanOut = { ...upscaleWorkflow({}), '20': { class_type: 'DistributedSeed', inputs: { seed: 1 } } };
    expect(detectTiling(withFanOut).problems).toEqual([
      'A tiled upscale cannot be combined with DistributedSeed or DistributedCollector in one job.',
    ]);
  });

  it('says when a DistributedTiles node feeds no upscale', () => {
    const prompt = upscaleWorkflow({});
    prompt['3'].inputs.image = ['1', 0];
    expect(detectTiling(prompt)).toEqual({
      kind: 'none',
      problems: ['DistributedTiles 9 feeds no ImageUpscaleWithModel: nothing is tiled.'],
    });
  });
});

describe('inputStepNodes', () => {
  it('lists what the tiled image comes from, which the master runs itself', () => {
    const prompt = upscaleWorkflow();
    prompt['7'] = { class_type: 'EmptyImage', inputs: { width: 96, height: 80, batch_size: 1, color: 0 } };
    prompt['8'] = { class_type: 'ImageAddNoise', inputs: { image: ['7', 0], seed: 7, strength: 0.5 } };
    prompt['3'].inputs.image = ['8', 0];
    delete prompt['1'];
    expect(inputStepNodes(prompt, detectTiling(prompt))).toEqual(['7', '8']);
  });

  it('starts from a DistributedTiles node’s image', () => {
    const prompt = upscaleWorkflow({ tile: 48, overlap: 8 });
    expect(inputStepNodes(prompt, detectTiling(prompt))).toEqual(['1']);
  });

  it('is empty when nothing is tiled', () => {
    expect(inputStepNodes(pipeline as ApiPrompt, detectTiling(pipeline as ApiPrompt))).toEqual([]);
  });
});

describe('checkTileSettings', () => {
  const check = (tile: unknown, overlap: unknown, feather: unknown = 'linear') =>
    checkTileSettings({ tile, overlap, feather });

  it('accepts the defaults and the fields as typed', () => {
    expect(check('512', '64')).toEqual({ settings: { tile: 512, overlap: 64, feather: 'linear' }, errors: {} });
    expect(check(' 48 ', '8', 'cosine').settings).toEqual({ tile: 48, overlap: 8, feather: 'cosine' });
    expect(check(8, 0).settings).toEqual({ tile: 8, overlap: 0, feather: 'linear' });
    expect(check(4096, 2048).settings).toEqual({ tile: 4096, overlap: 2048, feather: 'linear' });
  });

  it('wants whole numbers', () => {
    expect(check('', '64').errors).toEqual({ tile: 'The tile must be a whole number of pixels.' });
    expect(check('512', '6.5').errors).toEqual({ overlap: 'The overlap must be a whole number of pixels.' });
    expect(check('abc', 'x').settings).toBeNull();
  });

  it('keeps the tile within 8…4096', () => {
    expect(check('7', '0').errors.tile).toBe('The tile must be 8 to 4096 pixels.');
    expect(check('4097', '0').errors.tile).toBe('The tile must be 8 to 4096 pixels.');
  });

  it('keeps the overlap at least 0, under the tile and at most half of it', () => {
    expect(check('512', '-1').errors).toEqual({ overlap: 'The overlap cannot be negative.' });
    expect(check('48', '48').errors).toEqual({ overlap: 'The overlap must be smaller than the tile (48).' });
    expect(check('48', '25').errors).toEqual({ overlap: 'The overlap can be at most half the tile (24).' });
    expect(check('48', '24').errors).toEqual({});
    expect(check('49', '24').errors).toEqual({});
    expect(check('49', '25').errors).toEqual({ overlap: 'The overlap can be at most half the tile (24).' });
  });

  it('wants a linear or cosine feather', () => {
    expect(check('512', '64', 'gauss').errors).toEqual({ feather: 'Feather must be linear or cosine.' });
  });

  it('gives the request’s tiles option', () => {
    expect(tileRequest({ tile: 48, overlap: 8, feather: 'linear' })).toEqual({ tile: 48, overlap: 8, feather: 'linear' });
  });
});
