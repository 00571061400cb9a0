// URL hashes name the view and the job.
import { describe, expect, it } from 'vitest';
import { hrefFor, parseHash } from '../src/router';

describe('parseHash', () => {
  it('reads view and id, defaulting to Run', () => {
    expect(parseHash('')).toEqual({ view: 'run', id: null });
    expect(parseHash('#/jobs')).toEqual({ view: 'jobs', id: null });
    expect(parseHash('#/gallery/abc%2Fd')).toEqual({ view: 'gallery', id: 'abc/d' });
    expect(parseHash('#/nonsense')).toEqual({ view: 'run', id: null });
  });
  it('round-trips', () => {
    expect(parseHash(hrefFor('jobs', 'a b'))).toEqual({ view: 'jobs', id: 'a b' });
  });
});
