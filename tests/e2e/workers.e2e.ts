// The sidebar against a real master with real native workers: states, adding and editing
// workers, the master's validation messages, launch/stop, logs, actions on all workers, a killed
// worker, settings, small screens, keyboard use and the dark theme.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPage, pageErrors, screenshot } from './harness/browser';
import { waitForWorker } from './harness/masterApi';
import { localWorker, remoteWorker, startMaster, startWorker, type LoneWorker, type Master } from './harness/processes';
import { freePort } from './harness/ports';

let browser: Browser;
let master: Master;
let rack1: LoneWorker;
let rack2: LoneWorker | null = null;
let page: Page;

const card = (name: string) => page.locator(`article[aria-label="Worker ${name}"]`);
const cardInState = (name: string, state: string, timeout = 60000) =>
  page.locator(`article[aria-label="Worker ${name}"][data-state="${state}"]`).waitFor({ timeout });

beforeAll(async () => {
  rack1 = await startWorker();
  master = await startMaster({
    workers: [localWorker('CPU 1', await freePort()), remoteWorker('rack-1', '127.0.0.1', rack1.port)],
  });
  browser = await launchBrowser();
  ({ page } = await newPage(browser));
  await waitForWorker(master.url, 'CPU 1', ['idle']);
  await waitForWorker(master.url, 'rack-1', ['idle']);
});

afterAll(async () => {
  await browser?.close();
  await master?.stop();
  await rack1?.stop();
  await rack2?.stop();
});

describe('worker sidebar', () => {
  it('shows the master and each worker with its state, address and device', async () => {
    await page.goto(master.url);
    await cardInState('CPU 1', 'idle');
    await cardInState('rack-1', 'idle');
    expect(await card('CPU 1').textContent()).toContain('port');
    expect(await card('rack-1').textContent()).toContain(`127.0.0.1:${rack1.port}`);
    expect(await card('rack-1').textContent()).toContain('Remote');
    // The device line comes from the worker's /system_stats, relayed by the master.
    await card('CPU 1').locator('[data-testid="device"]').waitFor();
    expect(await page.locator('article[aria-label="Master"]').textContent()).toContain('Online');
    await screenshot(page, 'overview');
  });

  it('adds a remote worker through the form, and it goes green', async () => {
    rack2 = await startWorker();
    await page.getByRole('button', { name: '+ Add worker' }).click();
    const form = page.getByRole('form', { name: 'New worker' });
    await form.getByLabel('Name', { exact: true }).fill('rack-2');
    await form.getByLabel('Type', { exact: true }).selectOption('remote');
    // Pasted as a URL: its port wins over the Port field, as in the extension.
    await form.getByLabel('Host', { exact: true }).fill(`http://127.0.0.1:${rack2.port}/`);
    await form.getByRole('button', { name: 'Add' }).click();
    await cardInState('rack-2', 'idle', 30000);
    expect(await card('rack-2').textContent()).toContain(`127.0.0.1:${rack2.port}`);
    const tone = await card('rack-2').locator('[data-testid="status"]').getAttribute('class');
    expect(tone).toContain('tone-ok');
  });

  it('shows the master’s validation message next to the field', async () => {
    await page.getByRole('button', { name: '+ Add worker' }).click();
    const form = page.getByRole('form', { name: 'New worker' });
    await form.getByLabel('Port', { exact: true }).fill(String(master.port));
    await form.getByRole('button', { name: 'Add' }).click();
    const error = form.locator('[data-field$="-port"] .field-error');
    await error.waitFor();
    expect(await error.textContent()).toContain(`port ${master.port} is the master's port`);
    expect(await form.getByLabel('Port', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'validation-error');
    // A remote worker without a host: the message sits under Host.
    await form.getByLabel('Type', { exact: true }).selectOption('remote');
    await form.getByLabel('Port', { exact: true }).fill('8189');
    await form.getByRole('button', { name: 'Add' }).click();
    await form.locator('[data-field$="-host"] .field-error').waitFor();
    expect(await form.locator('[data-field$="-host"] .field-error').textContent()).toContain('is required');
    await form.getByRole('button', { name: 'Cancel' }).click();
  });

  it('stops and launches a local worker', async () => {
    await card('CPU 1').getByRole('button', { name: 'Stop' }).click();
    await cardInState('CPU 1', 'stopped', 30000);
    expect(await card('CPU 1').textContent()).toContain('Stopped');
    await card('CPU 1').getByRole('button', { name: 'Launch' }).click();
    await cardInState('CPU 1', 'idle', 60000);
  });

  it('shows a local worker’s log', async () => {
    await card('CPU 1').getByRole('button', { name: 'Log' }).click();
    const dialog = page.getByRole('dialog', { name: 'Log — CPU 1' });
    await dialog.waitFor();
    const lines = dialog.locator('[data-testid="log-lines"]');
    await expect.poll(async () => (await lines.textContent()) ?? '', { timeout: 10000 }).toContain('port');
    await dialog.getByLabel('Scroll lock').check();
    await screenshot(page, 'log-viewer');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('interrupts and clears VRAM on every worker, with one result each', async () => {
    await page.getByRole('button', { name: 'Interrupt workers' }).click();
    const results = page.locator('[data-testid="action-results"]');
    await results.waitFor();
    const text = (await results.textContent()) ?? '';
    for (const name of ['CPU 1', 'rack-1', 'rack-2']) {
      expect(text).toContain(`${name}: interrupted`);
    }
    await page.getByRole('button', { name: 'Clear worker VRAM' }).click();
    await expect.poll(async () => (await results.textContent()) ?? '').toContain('CPU 1: memory cleared');
  });

  it('turns a killed worker red, with the reason', async () => {
    rack1.process.kill();
    await cardInState('rack-1', 'offline', 30000);
    const reason = card('rack-1').locator('[data-testid="last-error"]');
    await reason.waitFor();
    expect((await reason.textContent())?.toLowerCase()).toMatch(/refused|closed|reset/);
    expect(await card('rack-1').locator('[data-testid="status"]').getAttribute('class')).toContain('tone-error');
    expect(await card('rack-1').locator('[data-testid="status"]').getAttribute('title')).toContain('Last error');
    await screenshot(page, 'worker-offline');
  });

  it('edits a worker and deletes it after asking', async () => {
    await card('rack-1').getByRole('button', { name: 'rack-1', exact: true }).click();
    const form = page.getByRole('form', { name: 'Edit rack-1' });
    await form.getByLabel('Name', { exact: true }).fill('rack-1 (old)');
    await form.getByRole('button', { name: 'Save' }).click();
    await card('rack-1 (old)').waitFor();
    await card('rack-1 (old)').getByRole('button', { name: 'rack-1 (old)', exact: true }).click();
    const edit = page.getByRole('form', { name: 'Edit rack-1 (old)' });
    await edit.getByRole('button', { name: 'Delete' }).click();
    await edit.getByRole('button', { name: 'Yes, delete' }).click();
    await card('rack-1 (old)').waitFor({ state: 'detached' });
  });

  it('saves settings and shows the master’s message for a bad value', async () => {
    await page.getByText('Settings', { exact: true }).click();
    const form = page.getByRole('form', { name: 'Settings' });
    await form.getByLabel('Worker timeout (s)').fill('1');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.locator('[data-field="set-timeout"] .field-error').waitFor();
    expect(await form.locator('[data-field="set-timeout"] .field-error').textContent()).toContain('between 5 and 86400');
    await form.getByLabel('Worker timeout (s)').fill('90');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(async () => {
        const response = await fetch(`${master.url}/distributed/config`);
        return ((await response.json()) as { settings: { worker_timeout_seconds: number } }).settings.worker_timeout_seconds;
      })
      .toBe(90);
  });

  it('can be used with the keyboard alone', async () => {
    await page.goto(master.url);
    await cardInState('CPU 1', 'idle');
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === '+ Add worker');
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('form', { name: 'New worker' }).waitFor();
    await page.keyboard.press('Shift+Tab'); // stays inside the page; the form is reachable
    expect(pageErrors(page)).toEqual([]);
  });

  it('fits a phone-sized screen, with the workers in a drawer', async () => {
    const { context, page: phone } = await newPage(browser, { width: 390, height: 844 });
    await phone.goto(master.url);
    const toggle = phone.getByRole('button', { name: '☰ GPUs' });
    await toggle.click();
    await phone.locator('article[aria-label="Worker CPU 1"][data-state="idle"]').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    await screenshot(phone, 'phone-workers');
    await context.close();
  });

  it('follows the system’s dark theme', async () => {
    const { context, page: dark } = await newPage(browser, { dark: true });
    await dark.goto(master.url);
    await dark.locator('article[aria-label="Worker CPU 1"][data-state="idle"]').waitFor();
    const background = await dark.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(background).toBe('rgb(21, 23, 27)');
    await screenshot(dark, 'dark-theme');
    await context.close();
  });
});
