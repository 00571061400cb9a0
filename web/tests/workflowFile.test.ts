// Dropped files: API format accepted bare or wrapped; UI format refused with the way out.
import { describe, expect, it } from 'vitest';
import { parseWorkflow, WorkflowFileError } from '../src/logic/workflowFile';
import fanOut from '../../examples/fan_out.json';

describe('parseWorkflow', () => {
  it('accepts the API format, bare and as {"prompt": ...}', () => {
    const text = JSON.stringify(fanOut);
    expect(Object.keys(parseWorkflow(text))).toHaveLength(5);
    expect(Object.keys(parseWorkflow(JSON.stringify({ prompt: fanOut })))).toHaveLength(5);
  });
  it('refuses the UI format and says what to do', () => {
    expect(() => parseWorkflow(JSON.stringify({ nodes: [], links: [] }))).toThrow(/Export \(API\)/);
  });
  it('refuses what is not JSON or not a workflow', () => {
    expect(() => parseWorkflow('{')).toThrow(WorkflowFileError);
    expect(() => parseWorkflow('[]')).toThrow(/object of nodes/);
    expect(() => parseWorkflow('{}')).toThrow(/no nodes/);
    expect(() => parseWorkflow('{"1": {"inputs": {}}}')).toThrow(/class_type/);
  });
});
