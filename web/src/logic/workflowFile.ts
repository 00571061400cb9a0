// Reading a workflow file the user dropped or picked: ComfyUI's API format, bare or wrapped as
// {"prompt": {...}}. The UI format ("Save", with nodes and links) is recognised and refused with
// the way to get the right file.
import type { ApiPrompt } from '../api/types';

export class WorkflowFileError extends Error {}

export function parseWorkflow(text: string): ApiPrompt {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new WorkflowFileError(`This file is not JSON (${(e as Error).message}).`);
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw new WorkflowFileError('This file is not a workflow: it must hold a JSON object of nodes.');
  }
  let record = document as Record<string, unknown>;
  if (Array.isArray(record.nodes) && Array.isArray(record.links)) {
    throw new WorkflowFileError(
      'This is ComfyUI’s UI format. In ComfyUI, use Workflow → Export (API) and load that file.',
    );
  }
  if (record.prompt && typeof record.prompt === 'object' && !Array.isArray(record.prompt)) {
    record = record.prompt as Record<string, unknown>;
  }
  const ids = Object.keys(record);
  if (ids.length === 0) {
    throw new WorkflowFileError('This workflow has no nodes.');
  }
  for (const id of ids) {
    const node = record[id] as Record<string, unknown> | null;
    if (!node || typeof node !== 'object' || typeof node.class_type !== 'string') {
      throw new WorkflowFileError(`Node “${id}” has no class_type: this is not an API-format workflow.`);
    }
    if (node.inputs !== undefined && (typeof node.inputs !== 'object' || node.inputs === null)) {
      throw new WorkflowFileError(`Node “${id}” (${node.class_type}) has inputs that are not an object.`);
    }
  }
  return record as ApiPrompt;
}

// True for an input value that links to another node's output: ["node id", output index].
export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}
