// The worker form sends what the user typed and puts the master's messages next to the fields.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import WorkerForm from '../src/components/WorkerForm.vue';
import type { WorkerFields } from '../src/api/types';

const initial: WorkerFields = {
  name: 'Worker 2',
  type: 'local',
  host: '',
  port: 8190,
  cuda_device: '1',
  extra_args: '',
  enabled: true,
  engine: 'native',
};

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
}

afterEach(() => vi.unstubAllGlobals());

describe('WorkerForm', () => {
  it('shows the master’s port message next to the port field', async () => {
    const fetchMock = answer(400, {
      error: {
        type: 'invalid_config',
        message: "workers[1].port: port 8188 is the master's port",
        fields: [{ field: 'workers[1].port', message: "port 8188 is the master's port" }],
      },
    });
    vi.stubGlobal('fetch', fetchMock);
    const wrapper = mount(WorkerForm, { props: { initial, mode: 'add' } });
    await wrapper.get('input[name="port"]').setValue('8188');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const body = JSON.parse((fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body as string);
    expect(body).toMatchObject({ name: 'Worker 2', type: 'local', port: 8188, cuda_device: '1' });
    const field = wrapper.get('[data-field="w-new-port"]');
    expect(field.text()).toContain("port 8188 is the master's port");
    expect(wrapper.get('input[name="port"]').attributes('aria-invalid')).toBe('true');
    expect(wrapper.emitted('done')).toBeUndefined();
  });

  it('sends a port that is not a number as typed, for the master to explain', async () => {
    const fetchMock = answer(400, { error: { type: 'invalid_config', message: 'x', fields: [{ field: 'port', message: 'must be an integer' }] } });
    vi.stubGlobal('fetch', fetchMock);
    const wrapper = mount(WorkerForm, { props: { initial, mode: 'add' } });
    await wrapper.get('input[name="port"]').setValue('81a');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const body = JSON.parse((fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body as string);
    expect(body.port).toBe('81a');
    expect(wrapper.text()).toContain('must be an integer');
  });

  it('switches a cloud worker to port 443 and asks for its host', async () => {
    const wrapper = mount(WorkerForm, { props: { initial, mode: 'add' } });
    expect(wrapper.find('input[name="host"]').exists()).toBe(false);
    await wrapper.get('select[name="type"]').setValue('cloud');
    expect((wrapper.get('input[name="port"]').element as HTMLInputElement).value).toBe('443');
    expect(wrapper.find('input[name="host"]').exists()).toBe(true);
    expect(wrapper.find('input[name="cuda_device"]').exists()).toBe(false);
  });

  it('lets a pasted host:port set the port', async () => {
    const fetchMock = answer(200, { id: 'x', name: 'Worker 2' });
    vi.stubGlobal('fetch', fetchMock);
    const wrapper = mount(WorkerForm, { props: { initial, mode: 'add' } });
    await wrapper.get('select[name="type"]').setValue('remote');
    await wrapper.get('input[name="host"]').setValue('http://10.0.0.7:8190/');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const body = JSON.parse((fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body as string);
    expect(body.host).toBe('http://10.0.0.7:8190/');
    expect(body).not.toHaveProperty('port');
  });

  it('asks before deleting', async () => {
    const fetchMock = answer(200, { deleted: 'abc' });
    vi.stubGlobal('fetch', fetchMock);
    const wrapper = mount(WorkerForm, { props: { initial, mode: 'edit', workerId: 'abc' } });
    await wrapper.get('button.danger').trigger('click');
    expect(fetchMock).not.toHaveBeenCalled();
    await wrapper.get('button.danger').trigger('click');
    await flushPromises();
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/distributed/workers/abc');
    expect(wrapper.emitted('done')).toHaveLength(1);
  });
});
