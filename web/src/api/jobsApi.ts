// The master's distributed-execution routes: queue a workflow, list and inspect jobs, cancel and
// retry, and the URL of an output image.
import { getJson, postJson } from './http';
import type { ApiPrompt, ImageRef, JobDetail, JobSummary, QueueResult, TileRequest } from './types';

export interface QueueRequest {
  prompt: ApiPrompt;
  client_id: string;
  count?: number;
  workers?: string[];
  tiles?: TileRequest;
}

export const jobsApi = {
  queue: (request: QueueRequest) => postJson<QueueResult>('/distributed/queue', request),
  list: (limit = 50) =>
    getJson<{ jobs: JobSummary[]; total: number }>(`/distributed/jobs?limit=${limit}`),
  get: (jobId: string) => getJson<JobDetail>(`/distributed/jobs/${encodeURIComponent(jobId)}`),
  cancel: (jobId: string) => postJson<unknown>(`/distributed/jobs/${encodeURIComponent(jobId)}/cancel`),
  // The node classes the cluster offers (the master's GET /object_info).
  nodeClasses: async () => new Set(Object.keys(await getJson<Record<string, unknown>>('/object_info'))),
  retry: (jobId: string) => postJson<unknown>(`/distributed/jobs/${encodeURIComponent(jobId)}/retry`),
};

// The master's /view URL of an image.
export function imageUrl(image: ImageRef): string {
  const query = new URLSearchParams({
    filename: image.filename,
    subfolder: image.subfolder ?? '',
    type: image.type || 'output',
  });
  return `/view?${query.toString()}`;
}
