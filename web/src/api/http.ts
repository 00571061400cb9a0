// JSON requests to the master (same origin). A 401 tells the session store that a login is
// needed; every other error becomes an ApiError with the master's own message.
import { ApiError, apiErrorFromBody } from './apiError';

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

// The session store listens here, so that any request answered 401 shows the login page.
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const error = apiErrorFromBody(response.status, parsed);
    if (response.status === 401 && !path.endsWith('/distributed/login')) {
      unauthorizedListeners.forEach((listener) => listener());
    }
    throw error;
  }
  if (parsed === null && text) {
    throw new ApiError(response.status, 'invalid_response', `the master answered ${path} with something other than JSON`);
  }
  return parsed as T;
}

export const getJson = <T>(path: string) => requestJson<T>('GET', path);
export const postJson = <T>(path: string, body: unknown = {}) => requestJson<T>('POST', path, body);
