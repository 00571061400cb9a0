// The master's error bodies become messages next to the right form fields.
import { describe, expect, it } from 'vitest';
import { ApiError, apiErrorFromBody, describeError, fieldMessages } from '../src/api/apiError';

describe('apiErrorFromBody', () => {
  it('reads the type, message and field problems', () => {
    const e = apiErrorFromBody(400, {
      error: {
        type: 'invalid_config',
        message: 'workers[1].port: port 8188 is the master\'s port',
        fields: [{ field: 'workers[1].port', message: "port 8188 is the master's port" }],
      },
    });
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_config');
    expect(e.fields).toHaveLength(1);
  });

  it('reads ComfyUI node errors', () => {
    const e = apiErrorFromBody(400, {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
      node_errors: { '3': { class_type: 'ImageBlur', errors: [{ message: 'Value too big' }] } },
    });
    expect(e.nodeErrors['3'].errors[0].message).toBe('Value too big');
  });

  it('copes with a body that is not the master’s', () => {
    const e = apiErrorFromBody(502, null);
    expect(e.type).toBe('http_502');
    expect(e.message).toContain('502');
  });
});

describe('fieldMessages', () => {
  it('maps every worker, master and settings field to the form field name', () => {
    const e = new ApiError(400, 'invalid_config', 'x', {
      fields: [
        { field: 'workers[3].port', message: 'is used' },
        { field: 'workers[0].host', message: 'is required for remote workers' },
        { field: 'settings.worker_timeout_seconds', message: 'must be between 5 and 86400' },
        { field: 'master.name', message: 'is required' },
        { field: 'workers[3].port', message: 'and more' },
      ],
    });
    expect(fieldMessages(e)).toEqual({
      port: 'is used; and more',
      host: 'is required for remote workers',
      worker_timeout_seconds: 'must be between 5 and 86400',
      name: 'is required',
    });
  });

  it('gives nothing for other errors', () => {
    expect(fieldMessages(new Error('x'))).toEqual({});
  });
});

describe('describeError', () => {
  it('explains a request that got no answer', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(/did not answer/);
  });
});
