// The master's configuration and worker routes (config_routes.cpp, worker_control_routes.cpp).
import { getJson, postJson, requestJson } from './http';
import type {
  ClusterConfig,
  MasterConfig,
  NetworkInfo,
  Settings,
  Worker,
  WorkerActionResult,
  WorkerFields,
} from './types';

const id = (workerId: string) => encodeURIComponent(workerId);

export const clusterApi = {
  config: () => getJson<ClusterConfig>('/distributed/config'),
  workers: async () => (await getJson<{ workers: Worker[] }>('/distributed/workers')).workers,
  networkInfo: () => getJson<NetworkInfo>('/distributed/network_info'),
  saveMaster: (fields: Partial<MasterConfig>) =>
    requestJson<MasterConfig>('PUT', '/distributed/config/master', fields),
  saveSettings: (fields: Partial<Settings>) =>
    requestJson<Settings>('PUT', '/distributed/config/settings', fields),
  addWorker: (fields: Partial<WorkerFields>) => postJson<Worker>('/distributed/workers', fields),
  editWorker: (workerId: string, fields: Partial<WorkerFields>) =>
    requestJson<Worker>('PATCH', `/distributed/workers/${id(workerId)}`, fields),
  deleteWorker: (workerId: string) =>
    requestJson<{ deleted: string }>('DELETE', `/distributed/workers/${id(workerId)}`),
  launch: (workerId: string) => postJson<Worker>(`/distributed/workers/${id(workerId)}/launch`),
  stop: (workerId: string) => postJson<Worker>(`/distributed/workers/${id(workerId)}/stop`),
  log: async (workerId: string, lines: number) =>
    (await getJson<{ lines: string[] }>(`/distributed/workers/${id(workerId)}/log?lines=${lines}`)).lines,
  interrupt: async () =>
    (await postJson<{ results: WorkerActionResult[] }>('/distributed/interrupt')).results,
  clearMemory: async () =>
    (await postJson<{ results: WorkerActionResult[] }>('/distributed/clear_memory')).results,
  login: (token: string) => postJson<{ auth: boolean }>('/distributed/login', { token }),
};
