// Short messages in the corner ("Worker saved", "Could not reach the master"), read aloud by
// screen readers through the toast region's aria-live.
import { reactive } from 'vue';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

export const toasts = reactive<Toast[]>([]);
let nextId = 1;

export function showToast(text: string, kind: ToastKind = 'info', ms = kind === 'error' ? 8000 : 3500): void {
  const id = nextId++;
  toasts.push({ id, kind, text });
  setTimeout(() => dismissToast(id), ms);
}

export function dismissToast(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) {
    toasts.splice(index, 1);
  }
}
