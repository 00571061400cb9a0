// The page's one WebSocket to the master, and where each message goes: worker lists and states
// to the cluster store, job and unit changes to the jobs store.
import { MasterSocket } from '../api/masterSocket';
import type { JobMessage, UnitMessage, Worker } from '../api/types';
import { applyWorker, applyWorkers, cluster } from './cluster';
import { onJobMessage, onUnitMessage } from './jobs';
import { clientId } from './session';

let socket: MasterSocket | null = null;

export function routeMessage(type: string, data: unknown): void {
  const d = data as Record<string, unknown> | null;
  if (!d) {
    return;
  }
  switch (type) {
    case 'distributed_workers':
      applyWorkers((d.workers as Worker[]) ?? []);
      break;
    case 'distributed_worker_status':
      applyWorker(d as unknown as Worker);
      break;
    case 'distributed_unit':
      onUnitMessage(d as unknown as UnitMessage);
      break;
    case 'distributed_job':
      onJobMessage(d as unknown as JobMessage);
      break;
    default:
      // ComfyUI's own messages (status, progress, executed, ...): the distributed_* messages
      // already carry what the panel shows.
      break;
  }
}

export function startLive(): void {
  if (socket) {
    return;
  }
  socket = new MasterSocket({
    clientId,
    onMessage: routeMessage,
    onState: (state) => (cluster.socket = state),
  });
  socket.start();
}

export function stopLive(): void {
  socket?.stop();
  socket = null;
}
