// Running workflows from the panel on a real master with two local native workers: the fan-out
// example from Run to finished unit bars and thumbnails, the full-size viewer and the gallery,
// units running on their workers, cancelling, an upscale split into tiles across the workers,
// and a workflow the master refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, pageErrors, screenshot } from './harness/browser';
import { upscaleModels, uploadImage, waitForWorker } from './harness/masterApi';
import { testPng } from './harness/png';
import { localWorker, startMaster, type Master } from './harness/processes';
import { freePort } from './harness/ports';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let browser: Browser;
let master: Master;
let page: Page;

beforeAll(async () => {
  master = await startMaster({
    workers: [localWorker('CPU 1', await freePort()), localWorker('CPU 2', await freePort())],
  });
  browser = await launchBrowser();
  ({ page } = await newPage(browser));
  await waitForWorker(master.url, 'CPU 1', ['idle']);
  await waitForWorker(master.url, 'CPU 2', ['idle']);
});

afterAll(async () => {
  await browser?.close();
  await master?.stop();
});

const jobIdFromUrl = () => decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
const job = (id: string) => page.locator(`article[data-job-id="${id}"]`);

async function queueFile(name: string, count: number): Promise<string> {
  await page.goto(`${master.url}/#/run`);
  await page.locator('article[aria-label="Worker CPU 2"][data-state="idle"]').waitFor({ timeout: 30000 });
  await page.locator('[data-testid="workflow-file"]').setInputFiles(fixture(name));
  await page.getByLabel('Count (units)').fill(String(count));
  await page.getByRole('button', { name: 'Queue' }).click();
  await page.waitForURL(/#\/jobs\/.+/);
  return jobIdFromUrl();
}

describe('jobs', () => {
  it('queues the fan-out example and shows its units finish and its images', async () => {
    await page.goto(`${master.url}/#/run`);
    await page.locator('article[aria-label="Worker CPU 2"][data-state="idle"]').waitFor({ timeout: 30000 });
    await page.getByLabel('Example workflow').selectOption('fan_out.json');
    await page.locator('[data-testid="plan-mode"]').waitFor();
    expect(await page.locator('[data-testid="plan-mode"]').textContent()).toContain('fan-out');
    expect(await page.locator('[data-testid="plan-units"]').textContent()).toContain('2');
    expect(await page.locator('[data-testid="distributed-nodes"]').textContent()).toContain('DistributedSeed');
    await page.getByLabel('Count (units)').fill('4');
    expect(await page.locator('[data-testid="plan-units"]').textContent()).toContain('4');
    await screenshot(page, 'run-plan');
    await page.getByRole('button', { name: 'Queue' }).click();
    await page.waitForURL(/#\/jobs\/.+/);
    const id = jobIdFromUrl();
    await job(id).and(page.locator('[data-state="done"]')).waitFor({ timeout: 60000 });
    await expect.poll(() => job(id).locator('.unit[data-state="done"]').count(), { timeout: 20000 }).toBe(4);
    await expect.poll(() => job(id).locator('[data-testid="thumbnails"] img').count(), { timeout: 20000 }).toBe(4);
    // Every unit names the worker that ran it.
    const labels = await job(id).locator('.unit .label').allTextContents();
    expect(labels.every((l) => /done on CPU [12]/.test(l))).toBe(true);
    await screenshot(page, 'job-done');
  });

  it('opens an image at full size, with its unit, worker and seed', async () => {
    const id = jobIdFromUrl();
    await job(id).locator('[data-testid="thumbnails"] button').first().click();
    const dialog = page.getByRole('dialog');
    const image = dialog.locator('[data-testid="full-image"]');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);
    expect(await dialog.textContent()).toContain('seed 1000');
    expect(await dialog.getByRole('link', { name: 'Download' }).getAttribute('href')).toContain('/view?');
    await screenshot(page, 'image-viewer');
    await page.keyboard.press('ArrowRight');
    expect(await dialog.textContent()).toContain('seed 1001');
    await page.keyboard.press('Escape');
  });

  it('lists the job’s images in the gallery with where each came from', async () => {
    const id = jobIdFromUrl();
    await page.goto(`${master.url}/#/gallery/${encodeURIComponent(id)}`);
    await expect.poll(() => page.locator('[data-testid="thumbnails"] li').count(), { timeout: 20000 }).toBe(4);
    const captions = await page.locator('[data-testid="thumbnails"] .caption').allTextContents();
    expect(captions[0]).toMatch(/unit 1 · CPU [12] · seed 1000/);
    expect(captions[3]).toMatch(/unit 4 · CPU [12] · seed 1003/);
    await screenshot(page, 'gallery');
  });

  it('shows units running on their workers, live', async () => {
    const id = await queueFile('slow_fan_out.json', 6);
    await job(id).locator('.unit[data-state="dispatched"]').first().waitFor({ timeout: 30000 });
    const running = await job(id).locator('.unit[data-state="dispatched"] .label').first().textContent();
    expect(running).toMatch(/running on CPU [12]/);
    // The picture: some units done, the next ones running on their workers.
    await job(id).locator('.unit[data-state="done"]').first().waitFor({ timeout: 30000 });
    await screenshot(page, 'job-running');
    await job(id).and(page.locator('[data-state="done"]')).waitFor({ timeout: 90000 });
    await expect.poll(() => job(id).locator('[data-testid="thumbnails"] img').count(), { timeout: 20000 }).toBe(6);
  });

  it('cancels a job', async () => {
    const id = await queueFile('slow_fan_out.json', 8);
    await job(id).locator('.unit[data-state="dispatched"]').first().waitFor({ timeout: 30000 });
    await job(id).getByRole('button', { name: 'Cancel' }).click();
    await job(id).and(page.locator('[data-state="cancelled"]')).waitFor({ timeout: 30000 });
  });

  it('splits an upscale into tiles across the workers and shows the blended image', async (context) => {
    const model = 'esrgan-slim-x2';
    if (!(await upscaleModels(master.url)).includes(model)) {
      context.skip(`the bundled model ${model} is not installed (scripts/bootstrap installs it)`);
    }
    // The workflow's LoadImage reads this 96×80 picture from the master's input folder.
    await uploadImage(master.url, 'e2e_tiles_input.png', testPng(96, 80));
    await page.goto(`${master.url}/#/run`);
    await page.locator('article[aria-label="Worker CPU 2"][data-state="idle"]').waitFor({ timeout: 30000 });
    await page.locator('[data-testid="workflow-file"]').setInputFiles(fixture('tiled_upscale.json'));
    const mode = page.locator('[data-testid="plan-mode"]');
    await mode.waitFor();
    expect(await mode.textContent()).toContain('single');
    await page.getByLabel('Split into tiles across workers').check();
    expect(await mode.textContent()).toContain('tiles');
    expect(await page.locator('[data-testid="plan-units"]').textContent()).toContain('one unit per tile');
    expect(await page.locator('[data-testid="input-step-nodes"]').textContent()).toBe('LoadImage (1)');
    expect(await page.getByLabel('Count (units)').count()).toBe(0);
    const queue = page.getByRole('button', { name: 'Queue' });
    // The master's rules, checked in the page: an overlap over half the tile is refused.
    await page.getByLabel('Tile (px)').fill('48');
    await page.getByLabel('Overlap (px)').fill('30');
    expect(await page.locator('#run-overlap-error').textContent()).toContain('at most half the tile (24)');
    expect(await queue.isDisabled()).toBe(true);
    await page.getByLabel('Overlap (px)').fill('8');
    expect(await page.locator('#run-overlap-error').count()).toBe(0);
    expect(await queue.isDisabled()).toBe(false);
    await screenshot(page, 'run-tiles');
    await queue.click();
    await page.waitForURL(/#\/jobs\/.+/);
    const id = jobIdFromUrl();
    await job(id).and(page.locator('[data-state="done"]')).waitFor({ timeout: 90000 });
    expect(await job(id).textContent()).toContain('tiles');
    // 96×80 in 48-pixel tiles overlapping by at least 8: 3 columns, 2 rows, one unit each.
    await expect.poll(() => job(id).locator('.unit[data-state="done"]').count(), { timeout: 20000 }).toBe(6);
    const labels = await job(id).locator('.unit .label').allTextContents();
    expect(labels.every((l) => /done on CPU [12]/.test(l))).toBe(true);
    // One image: the tiles blended back, twice the input's size.
    await expect.poll(() => job(id).locator('[data-testid="thumbnails"] img').count(), { timeout: 20000 }).toBe(1);
    await page.goto(`${master.url}/#/gallery/${encodeURIComponent(id)}`);
    const image = page.locator('[data-testid="thumbnails"] img');
    await expect.poll(() => image.count(), { timeout: 20000 }).toBe(1);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 20000 }).toBe(192);
    expect(await image.evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(160);
    expect(pageErrors(page)).toEqual([]);
  });

  it('shows why the master refuses a workflow, node by node', async () => {
    await page.goto(`${master.url}/#/run`);
    await page.locator('[data-testid="workflow-file"]').setInputFiles(fixture('unknown_node.json'));
    await page.getByRole('button', { name: 'Queue' }).click();
    const error = page.locator('[data-testid="queue-error"]');
    await error.waitFor();
    expect(await error.textContent()).toContain('NoSuchNodeAnywhere');
    expect(pageErrors(page)).toEqual([]);
  });
});
