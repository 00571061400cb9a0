// The master's configuration and its workers, kept current by the WebSocket: the full list on
// every (re)connect, one worker on every state change. Edits made here re-read what they changed.
import { reactive } from 'vue';
import { describeError } from '../api/apiError';
import { clusterApi } from '../api/clusterApi';
import type { SocketState } from '../api/masterSocket';
import type { ClusterConfig, NetworkInfo, Worker } from '../api/types';

export const cluster = reactive({
  workers: [] as Worker[],
  config: null as ClusterConfig | null,
  network: null as NetworkInfo | null,
  socket: 'connecting' as SocketState,
  loadError: '',
  loaded: false,
});

export function applyWorker(worker: Worker): void {
  const index = cluster.workers.findIndex((w) => w.id === worker.id);
  if (index >= 0) {
    cluster.workers[index] = worker;
  } else {
    cluster.workers.push(worker);
  }
}

export function applyWorkers(workers: Worker[]): void {
  cluster.workers.splice(0, cluster.workers.length, ...workers);
}

export function forgetWorker(id: string): void {
  const index = cluster.workers.findIndex((w) => w.id === id);
  if (index >= 0) {
    cluster.workers.splice(index, 1);
  }
}

export async function refreshWorkers(): Promise<void> {
  applyWorkers(await clusterApi.workers());
}

export async function refreshConfig(): Promise<void> {
  cluster.config = await clusterApi.config();
}

export async function loadCluster(): Promise<void> {
  try {
    const [config, workers] = await Promise.all([clusterApi.config(), clusterApi.workers()]);
    cluster.config = config;
    applyWorkers(workers);
    cluster.loadError = '';
    cluster.loaded = true;
  } catch (e) {
    cluster.loadError = describeError(e);
    throw e;
  }
  // The machine's GPUs only matter for "Add worker"; a failure here is not worth a banner.
  clusterApi.networkInfo().then(
    (info) => (cluster.network = info),
    () => undefined,
  );
}
