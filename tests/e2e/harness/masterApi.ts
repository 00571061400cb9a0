// Direct calls to the master for a test's set-up and checks (what the page shows is checked in
// the browser; this only prepares the cluster a test starts from: its workers' states, the
// models they offer, the images in the master's input folder).
export interface WorkerJson {
  id: string;
  name: string;
  state: string;
  pid: number | null;
  last_error: string | null;
}

export async function workers(url: string, headers: Record<string, string> = {}): Promise<WorkerJson[]> {
  const response = await fetch(`${url}/distributed/workers`, { headers });
  if (!response.ok) {
    throw new Error(`GET /distributed/workers: HTTP ${response.status}`);
  }
  return ((await response.json()) as { workers: WorkerJson[] }).workers;
}

export async function waitForWorker(
  url: string,
  name: string,
  states: string[],
  timeoutMs = 60000,
): Promise<WorkerJson> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkerJson | undefined;
  while (Date.now() < deadline) {
    last = (await workers(url)).find((w) => w.name === name);
    if (last && states.includes(last.state)) {
      return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`worker ${name} not ${states.join('/')} after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

// The upscale models the cluster's workers offer (UpscaleModelLoader's list, as the master
// relays it); the bundled ones are there when scripts/bootstrap installed them.
export async function upscaleModels(url: string): Promise<string[]> {
  const response = await fetch(`${url}/object_info/UpscaleModelLoader`);
  if (!response.ok) {
    return [];
  }
  const info = (await response.json()) as {
    UpscaleModelLoader?: { input?: { required?: { model_name?: [unknown, { options?: string[] }?] } } };
  };
  return info.UpscaleModelLoader?.input?.required?.model_name?.[1]?.options ?? [];
}

// Puts an image into the master's input/ folder (POST /upload/image), as a client would.
export async function uploadImage(url: string, name: string, bytes: Uint8Array): Promise<void> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
  form.append('overwrite', 'true');
  const response = await fetch(`${url}/upload/image`, { method: 'POST', body: form });
  if (!response.ok) {
    throw new Error(`POST /upload/image: HTTP ${response.status} ${await response.text()}`);
  }
}
