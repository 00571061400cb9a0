// Updates are applied together, once per frame, the latest per key.
import { describe, expect, it } from 'vitest';
import { FrameBatcher } from '../src/logic/frameBatcher';

describe('FrameBatcher', () => {
  it('applies the latest update of each key in one call per frame', () => {
    const frames: (() => void)[] = [];
    const applied: number[][] = [];
    const batcher = new FrameBatcher<number>((items) => applied.push(items), (fn) => frames.push(fn));
    batcher.push('a', 1);
    batcher.push('b', 2);
    batcher.push('a', 3);
    expect(frames).toHaveLength(1);
    frames[0]();
    expect(applied).toEqual([[3, 2]]);
    batcher.push('a', 4);
    expect(frames).toHaveLength(2);
    frames[1]();
    expect(applied).toEqual([[3, 2], [4]]);
  });
});
