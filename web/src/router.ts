// The main area's views by URL hash (#/run, #/jobs, #/jobs/<id>, #/gallery/<id>), so that the
// back button works and a job or gallery can be linked to.
import { ref } from 'vue';

export type ViewName = 'run' | 'jobs' | 'gallery';

export interface Route {
  view: ViewName;
  id: string | null;
}

export function parseHash(hash: string): Route {
  const [view, id] = hash.replace(/^#\/?/, '').split('/');
  const name: ViewName = view === 'jobs' || view === 'gallery' ? view : 'run';
  return { view: name, id: id ? decodeURIComponent(id) : null };
}

export const route = ref<Route>(parseHash(typeof location === 'undefined' ? '' : location.hash));

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    route.value = parseHash(location.hash);
  });
}

export function hrefFor(view: ViewName, id: string | null = null): string {
  return id ? `#/${view}/${encodeURIComponent(id)}` : `#/${view}`;
}

export function navigate(view: ViewName, id: string | null = null): void {
  location.hash = hrefFor(view, id);
}
