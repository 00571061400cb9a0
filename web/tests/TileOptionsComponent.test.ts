// The Run view's tile options: a checkbox and fields for a workflow that can be tiled, with the
// problems next to the fields; a DistributedTiles node's settings, read-only.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import TileOptions from '../src/components/TileOptions.vue';
import type { TileErrors, Tiling } from '../src/logic/tileOptions';

function mountOptions(tiling: Tiling, errors: TileErrors = {}, enabled = false) {
  return mount(TileOptions, {
    props: { tiling, errors, enabled, tile: '512', overlap: '64', feather: 'linear' },
  });
}

describe('TileOptions', () => {
  it('offers the checkbox, and the fields once it is ticked', async () => {
    const wrapper = mountOptions({ kind: 'option', upscaleId: '3', problems: [] });
    expect(wrapper.text()).toContain('Split into tiles across workers');
    expect(wrapper.find('#run-tile').exists()).toBe(false);
    await wrapper.get('input[type="checkbox"]').setValue(true);
    expect(wrapper.emitted('update:enabled')).toEqual([[true]]);
    await wrapper.setProps({ enabled: true });
    expect((wrapper.get('#run-tile').element as HTMLInputElement).value).toBe('512');
    expect((wrapper.get('#run-overlap').element as HTMLInputElement).value).toBe('64');
    expect((wrapper.get('#run-feather').element as HTMLSelectElement).value).toBe('linear');
    await wrapper.get('#run-overlap').setValue('300');
    expect(wrapper.emitted('update:overlap')).toEqual([['300']]);
  });

  it('shows a problem next to its field', () => {
    const wrapper = mountOptions(
      { kind: 'option', upscaleId: '3', problems: [] },
      { overlap: 'The overlap can be at most half the tile (256).' },
      true,
    );
    expect(wrapper.get('#run-overlap-error').text()).toBe('The overlap can be at most half the tile (256).');
    expect(wrapper.get('#run-overlap').attributes('aria-invalid')).toBe('true');
    expect(wrapper.find('#run-tile-error').exists()).toBe(false);
  });

  it('shows a DistributedTiles node’s settings without a checkbox', () => {
    const wrapper = mountOptions({
      kind: 'node',
      nodeId: '9',
      upscaleId: '3',
      settings: { tile: 48, overlap: 8, feather: 'cosine' },
      problems: [],
    });
    expect(wrapper.find('input').exists()).toBe(false);
    expect(wrapper.get('[data-testid="tiles-node"]').text()).toBe(
      'Tiled by DistributedTiles node 9: tile 48, overlap 8, feather cosine',
    );
  });
});
