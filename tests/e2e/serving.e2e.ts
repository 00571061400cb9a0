// How the master serves the panel (src/master/panel_routes.cpp): the page and its hashed assets
// with their content types and cache rules, nothing outside the panel folder, and a page that
// says how to build the panel when it is not built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type Master } from './harness/processes';

let master: Master;

beforeAll(async () => {
  master = await startMaster();
});

afterAll(async () => {
  await master?.stop();
});

describe('serving the panel', () => {
  it('answers / with the page, to be re-validated on every load, and a strict content policy', async () => {
    const response = await fetch(`${master.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('<div id="app">');
  });

  it('serves the hashed assets with their types, cached for good', async () => {
    const html = await (await fetch(`${master.url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const response = await fetch(`${master.url}/${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-type')).toBe(
        asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
    }
  });

  it('serves nothing outside the panel folder', async () => {
    for (const path of ['/assets/..%2Findex.html', '/assets/..%2F..%2Fpackage.json', '/assets/%2Fetc%2Fpasswd', '/assets/nope.js']) {
      const response = await fetch(`${master.url}${path}`);
      expect(response.status, path).toBe(404);
    }
  });

  it('is reachable without the token, which the API still needs', async () => {
    const guarded = await startMaster({ authToken: 'serving-test-token-0123456789' });
    try {
      expect((await fetch(`${guarded.url}/`)).status).toBe(200);
      expect((await fetch(`${guarded.url}/distributed/workers`)).status).toBe(401);
    } finally {
      await guarded.stop();
    }
  });

  it('says how to build the panel when it is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'comfydist-e2e-nopanel-'));
    const bare = await startMaster({ env: { COMFYDIST_PANEL_DIR: empty } });
    try {
      const response = await fetch(`${bare.url}/`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('make build');
      expect(text).toContain('not built');
      expect((await fetch(`${bare.url}/assets/index.js`)).status).toBe(404);
    } finally {
      await bare.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
