// Whether this browser may use the master: a master started with --auth-token-file answers 401
// until POST /distributed/login has set the session cookie. The login page shows while
// `needsLogin` is true.
import { ref } from 'vue';
import { clusterApi } from '../api/clusterApi';
import { onUnauthorized } from '../api/http';

export const needsLogin = ref(false);

onUnauthorized(() => {
  needsLogin.value = true;
});

export async function logIn(token: string): Promise<void> {
  await clusterApi.login(token);
  needsLogin.value = false;
}

// One id per page, sent as clientId on /ws and client_id when queueing, so that the master sends
// this page ComfyUI's progress messages for its own jobs.
export const clientId: string =
  typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `panel-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
