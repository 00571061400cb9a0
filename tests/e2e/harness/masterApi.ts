// Direct calls to the master for a test's set-up and checks (what the page shows is checked in
// the browser; this only waits for the cluster to be in the state a test starts from).
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
