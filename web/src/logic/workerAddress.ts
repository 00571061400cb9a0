// The one-line address under a worker's name: where it runs, in the words users set it up with.
import type { WorkerFields } from '../api/types';

export function workerAddress(worker: Pick<WorkerFields, 'type' | 'host' | 'port' | 'cuda_device'>): string {
  switch (worker.type) {
    case 'local':
      return worker.cuda_device !== null && worker.cuda_device !== ''
        ? `CUDA ${worker.cuda_device} · port ${worker.port}`
        : `CPU · port ${worker.port}`;
    case 'remote':
      return worker.host ? `${worker.host}:${worker.port}` : `not configured · port ${worker.port}`;
    case 'cloud':
      return worker.port === 443 ? worker.host : `${worker.host}:${worker.port}`;
    default:
      return '';
  }
}
