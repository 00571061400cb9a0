// Shapes of the master's JSON as the panel reads them (the /distributed/* API, /view, /ws).
// Only the fields the panel uses are listed; the master may send more.

export type WorkerState =
  | 'disabled'
  | 'stopped'
  | 'launching'
  | 'idle'
  | 'busy'
  | 'offline'
  | 'crashed'
  | 'stopping';
export type WorkerType = 'local' | 'remote' | 'cloud';
export type WorkerEngine = 'native' | 'comfyui';

// One entry of a worker's /system_stats "devices" as the master relays it.
export interface DeviceInfo {
  name: string;
  type?: string;
  index?: number;
  vram_total?: number;
  vram_free?: number;
}

// The editable part of a worker, as in comfydist.json.
export interface WorkerFields {
  name: string;
  type: WorkerType;
  host: string;
  port: number;
  cuda_device: string | null;
  extra_args: string;
  enabled: boolean;
  engine: WorkerEngine;
}

// A worker as GET /distributed/workers and the distributed_worker_status message give it.
export interface Worker extends WorkerFields {
  id: string;
  state: WorkerState;
  queue_remaining: number;
  last_error: string | null;
  pid: number | null;
  devices: DeviceInfo[];
  url: string;
}

export interface MasterConfig {
  name: string;
  host: string;
  port: number;
}

export interface Settings {
  auto_launch_workers: boolean;
  stop_workers_on_master_exit: boolean;
  worker_timeout_seconds: number;
  probe_interval_seconds: number;
  max_inflight_per_worker: number;
}

export interface ClusterConfig {
  master: MasterConfig;
  settings: Settings;
  load_problem: string | null;
}

export interface NetworkInfo {
  hostname: string;
  addresses: { interface: string; address: string }[];
  gpus: { index: number; name: string; memory_total: number }[];
}

// One entry of POST /distributed/interrupt or /distributed/clear_memory.
export interface WorkerActionResult {
  id: string;
  name: string;
  ok: boolean;
  error: string | null;
}

export type JobState = 'queued' | 'running' | 'done' | 'partial' | 'failed' | 'cancelled';
export type JobMode = 'single' | 'load_balanced' | 'fan_out' | 'tiles';
export type UnitState = 'pending' | 'dispatched' | 'done' | 'failed';

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

export interface UnitError {
  worker_id: string | null;
  worker_name: string | null;
  message: string;
  at: number;
}

export interface Unit {
  index: number;
  state: UnitState;
  worker_id: string | null;
  worker_name: string | null;
  attempts: number;
  errors: UnitError[];
  progress: { value: number; max: number } | null;
  started_at: number | null;
  finished_at: number | null;
  outputs: (ImageRef & { node_id: string })[];
}

export interface JobSummary {
  id: string;
  number: number;
  state: JobState;
  mode: JobMode;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  unit_count: number;
  units_by_state: Partial<Record<UnitState, number>>;
  skipped_workers: Record<string, string>;
}

export interface JobDetail extends JobSummary {
  units: Unit[];
  outputs: Record<string, { images?: ImageRef[] }>;
  prompt: ApiPrompt;
}

// A ComfyUI API-format workflow: node id → {class_type, inputs}.
export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

// POST /distributed/queue's `tiles` option: tile the prompt's one ImageUpscaleWithModel across the
// workers (docs/tiles.md); the master's defaults fill in a missing key.
export type Feather = 'linear' | 'cosine';
export interface TileRequest {
  tile?: number;
  overlap?: number;
  feather?: Feather;
}

export interface QueueResult {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
  worker_count: number;
}

// The distributed_unit message: one unit of a job changed.
export interface UnitMessage extends Unit {
  prompt_id: string;
  unit: number;
  units: number;
}

// The distributed_job message: a job's summary changed.
export interface JobMessage extends Partial<JobSummary> {
  prompt_id: string;
}
