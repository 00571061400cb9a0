// Starting the real comfydist binary for a test: a master (`comfydist serve`) with a prepared
// configuration, or a lone native worker (`comfydist worker`, a "remote" machine on loopback),
// each in a temporary data folder that is removed afterwards. The binary comes from
// $COMFYDIST_BINARY (the Makefile passes the test build's).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const binary = resolve(process.env.COMFYDIST_BINARY ?? join(repoRoot, 'build-asan/comfydist'));

export interface WorkerConfig {
  id: string;
  name: string;
  type: 'local' | 'remote' | 'cloud';
  host?: string;
  port: number;
  cuda_device?: string | null;
  extra_args?: string;
  enabled?: boolean;
  engine?: 'native' | 'comfyui';
}

export function localWorker(name: string, port: number, extra_args = '--enable-test-nodes'): WorkerConfig {
  return { id: randomUUID(), name, type: 'local', port, extra_args, enabled: true, engine: 'native' };
}

export function remoteWorker(name: string, host: string, port: number): WorkerConfig {
  return { id: randomUUID(), name, type: 'remote', host, port, enabled: true, engine: 'native' };
}

// Every process a test started, so that none outlives the test run, even one that fails badly.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    child.kill('SIGKILL');
  }
});

class RunningProcess {
  constructor(
    readonly child: ChildProcess,
    readonly dir: string,
    readonly logPath: string,
  ) {}

  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  // SIGTERM (the master stops its local workers first), SIGKILL after the grace.
  async stop(graceMs = 15000): Promise<void> {
    if (this.alive()) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.alive() && this.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function startProcess(
  args: string[],
  dir: string,
  readyPattern: RegExp,
  extraEnv: Record<string, string> = {},
  timeoutMs = 30000,
): Promise<RunningProcess> {
  const logPath = join(dir, 'process.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(binary, args, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=0', ...extraEnv },
  });
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const started = new RunningProcess(child, dir, logPath);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (readyPattern.test(started.log())) {
      return started;
    }
    if (!started.alive()) {
      throw new Error(`${args[0]} exited during start-up:\n${started.log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await started.stop(1000);
  throw new Error(`${args[0]} not ready after ${timeoutMs} ms:\n${started.log()}`);
}

export interface MasterOptions {
  workers?: WorkerConfig[];
  autoLaunch?: boolean;
  authToken?: string;
  settings?: Record<string, unknown>;
  // Extra environment of the master (e.g. COMFYDIST_PANEL_DIR).
  env?: Record<string, string>;
}

export interface Master {
  url: string;
  port: number;
  dataDir: string;
  process: RunningProcess;
  stop: () => Promise<void>;
}

export async function startMaster(options: MasterOptions = {}): Promise<Master> {
  const dir = mkdtempSync(join(tmpdir(), 'comfydist-e2e-master-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const config = {
    master: { name: 'Master', port },
    workers: options.workers ?? [],
    settings: {
      probe_interval_seconds: 0.5,
      has_auto_populated_workers: true,
      ...options.settings,
    },
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'comfydist.json'), JSON.stringify(config, null, 2));
  const args = ['serve', '--port', String(port), '--data-dir', dataDir];
  if (options.autoLaunch === false) {
    args.push('--no-auto-launch');
  }
  if (options.authToken) {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${options.authToken}\n`, { mode: 0o600 });
    args.push('--auth-token-file', tokenFile);
  }
  const running = await startProcess(args, dir, /master ready on port \d+/, options.env);
  return { url: `http://127.0.0.1:${port}`, port, dataDir, process: running, stop: () => running.stop() };
}

export interface LoneWorker {
  port: number;
  process: RunningProcess;
  stop: () => Promise<void>;
}

// A native worker the test starts itself, as the owner of a remote machine would.
export async function startWorker(extraArgs: string[] = ['--enable-test-nodes']): Promise<LoneWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'comfydist-e2e-worker-'));
  const port = await freePort();
  const running = await startProcess(
    ['worker', '--port', String(port), '--data-dir', join(dir, 'data'), ...extraArgs],
    dir,
    /worker ready on port \d+/,
  );
  return { port, process: running, stop: () => running.stop() };
}
