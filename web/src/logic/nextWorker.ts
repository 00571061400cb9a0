// What "Add worker" proposes: the first CUDA device of this machine that no local worker uses
// and the next free port from 8189 (never the master's), as the extension does. When every GPU
// already has a worker, it proposes a remote worker instead and says why.
import type { WorkerFields } from '../api/types';

export const FIRST_WORKER_PORT = 8189;

export interface NewWorkerProposal {
  fields: WorkerFields;
  // Shown above the form when the proposal is not the obvious one.
  note: string | null;
}

// Devices a local worker's cuda_device names ("0", "0,1").
export function devicesOf(cudaDevice: string | null): number[] {
  if (!cudaDevice) {
    return [];
  }
  return cudaDevice
    .split(',')
    .map((part) => Number.parseInt(part.trim(), 10))
    .filter((n) => Number.isInteger(n) && n >= 0);
}

const isLoopback = (host: string) => host === '' || host === 'localhost' || host.startsWith('127.') || host === '::1';

export function nextFreePort(workers: Pick<WorkerFields, 'type' | 'host' | 'port'>[], masterPort: number): number {
  const used = new Set<number>([masterPort]);
  for (const w of workers) {
    if (w.type === 'local' || isLoopback(w.host)) {
      used.add(w.port);
    }
  }
  let port = FIRST_WORKER_PORT;
  while (used.has(port) && port < 65535) {
    port += 1;
  }
  return port;
}

function nextName(workers: Pick<WorkerFields, 'name'>[]): string {
  const names = new Set(workers.map((w) => w.name));
  let n = workers.length + 1;
  while (names.has(`Worker ${n}`)) {
    n += 1;
  }
  return `Worker ${n}`;
}

export function proposeNewWorker(
  workers: WorkerFields[],
  gpuIndices: number[],
  masterPort: number,
): NewWorkerProposal {
  const fields: WorkerFields = {
    name: nextName(workers),
    type: 'local',
    host: '',
    port: nextFreePort(workers, masterPort),
    cuda_device: null,
    extra_args: '',
    enabled: true,
    engine: 'native',
  };
  if (gpuIndices.length === 0) {
    return {
      fields,
      note: 'No NVIDIA GPU was found on the master’s machine: this adds a native worker that computes on the CPU.',
    };
  }
  const taken = new Set(workers.filter((w) => w.type === 'local').flatMap((w) => devicesOf(w.cuda_device)));
  const free = [...gpuIndices].sort((a, b) => a - b).find((index) => !taken.has(index));
  if (free === undefined) {
    return {
      // Enabled: unlike the extension's placeholder card, nothing is added before the form is
      // saved with an address.
      fields: { ...fields, type: 'remote', host: '', port: FIRST_WORKER_PORT },
      note: 'Every GPU of this machine already has a local worker. Add a worker on another machine: give its address.',
    };
  }
  return { fields: { ...fields, cuda_device: String(free) }, note: null };
}
