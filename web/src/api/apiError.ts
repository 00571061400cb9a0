// The master's error answers as one value the views can show: a sentence for the user, the
// problems tied to form fields, and ComfyUI's per-node errors for a rejected workflow.

// One problem with a field; `field` is as the master names it ("workers[2].port", "host").
export interface FieldProblem {
  field: string;
  message: string;
}

export interface NodeErrorEntry {
  class_type?: string;
  errors: { type?: string; message: string; details?: string }[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly fields: FieldProblem[];
  readonly nodeErrors: Record<string, NodeErrorEntry>;
  readonly details: string;

  constructor(
    status: number,
    type: string,
    message: string,
    options: { fields?: FieldProblem[]; nodeErrors?: Record<string, NodeErrorEntry>; details?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.fields = options.fields ?? [];
    this.nodeErrors = options.nodeErrors ?? {};
    this.details = options.details ?? '';
  }
}

// Reads an error body ({"error": {type, message, fields?, details?}, "node_errors"?}) that may
// also be missing or not JSON (a proxy's page, a dropped connection).
export function apiErrorFromBody(status: number, body: unknown): ApiError {
  const record = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const error = (record.error && typeof record.error === 'object' ? record.error : {}) as Record<
    string,
    unknown
  >;
  const type = typeof error.type === 'string' ? error.type : `http_${status}`;
  const message =
    typeof error.message === 'string' && error.message
      ? error.message
      : typeof record.error === 'string'
        ? record.error
        : `the master answered HTTP ${status}`;
  const fields = Array.isArray(error.fields)
    ? (error.fields as FieldProblem[]).filter(
        (f) => f && typeof f.field === 'string' && typeof f.message === 'string',
      )
    : [];
  const nodeErrors =
    record.node_errors && typeof record.node_errors === 'object'
      ? (record.node_errors as Record<string, NodeErrorEntry>)
      : {};
  const details = typeof error.details === 'string' ? error.details : '';
  return new ApiError(status, type, message, { fields, nodeErrors, details });
}

// Field problems keyed by the form's own field names: "workers[3].port" → "port",
// "settings.worker_timeout_seconds" → "worker_timeout_seconds". Only one worker changes per
// request and the stored configuration is always valid, so every worker problem concerns the
// worker in the form, whatever index the master reports it under (a clash is reported on the
// later of the two workers).
export function fieldMessages(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) {
    return out;
  }
  for (const problem of error.fields) {
    const name = problem.field.replace(/^workers\[\d+\]\./, '').replace(/^(master|settings)\./, '');
    out[name] = out[name] ? `${out[name]}; ${problem.message}` : problem.message;
  }
  return out;
}

// A sentence for a toast or an error line.
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  if (error instanceof TypeError) {
    // fetch() rejects with a TypeError when no answer came at all.
    return 'the master did not answer (is `comfydist serve` running?)';
  }
  return error instanceof Error ? error.message : String(error);
}
