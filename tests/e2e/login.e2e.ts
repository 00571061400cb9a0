// A master started with --auth-token-file: the panel asks for the token, refuses a wrong one and,
// once logged in, works (the session cookie carries the token for HTTP and the WebSocket).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, screenshot } from './harness/browser';
import { localWorker, startMaster, type Master } from './harness/processes';
import { freePort } from './harness/ports';

const token = 'e2e-token-0123456789abcdef';
let browser: Browser;
let master: Master;

beforeAll(async () => {
  master = await startMaster({ workers: [localWorker('CPU 1', await freePort())], authToken: token });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await master?.stop();
});

it('logs in with the master’s token', async () => {
  const { page } = await newPage(browser);
  await page.goto(master.url);
  const form = page.getByRole('form', { name: 'Log in' });
  await form.waitFor();
  await screenshot(page, 'login');
  await form.getByLabel('Token').fill('not-the-token-at-all');
  await form.getByRole('button', { name: 'Log in' }).click();
  await form.getByText('That token is not the master’s.').waitFor();

  await form.getByLabel('Token').fill(token);
  await form.getByRole('button', { name: 'Log in' }).click();
  await page.locator('article[aria-label="Worker CPU 1"]').waitFor();
  // Live updates come through: the worker reaches idle without a reload.
  await page.locator('article[aria-label="Worker CPU 1"][data-state="idle"]').waitFor({ timeout: 60000 });

  // The session survives a reload.
  await page.reload();
  await page.locator('article[aria-label="Worker CPU 1"]').waitFor();
  expect(await page.getByRole('form', { name: 'Log in' }).count()).toBe(0);
});
