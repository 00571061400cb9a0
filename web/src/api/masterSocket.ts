// The master's WebSocket (/ws): one connection for the whole page, reconnected with a growing
// delay when it drops. The master sends the full worker list on every (re)connect, so nothing is
// lost while disconnected.

export type SocketState = 'connecting' | 'open' | 'closed';
export type MessageHandler = (type: string, data: unknown) => void;

export interface SocketOptions {
  clientId: string;
  onMessage: MessageHandler;
  onState: (state: SocketState) => void;
  // The URL to connect to; defaults to this page's origin.
  url?: string;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class MasterSocket {
  private socket: WebSocket | null = null;
  private delay = MIN_DELAY_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: SocketOptions) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.socket?.close();
    this.socket = null;
  }

  private url(): string {
    if (this.options.url) {
      return this.options.url;
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Relative to the page, so a master behind a path prefix works too.
    const base = new URL('.', location.href);
    return `${scheme}//${base.host}${base.pathname}ws?clientId=${encodeURIComponent(this.options.clientId)}`;
  }

  private open(): void {
    this.options.onState('connecting');
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.delay = MIN_DELAY_MS;
      this.options.onState('open');
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') {
        return; // binary preview frames: not used by the panel
      }
      let message: { type?: unknown; data?: unknown };
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (typeof message.type === 'string') {
        this.options.onMessage(message.type, message.data);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      this.options.onState('closed');
      if (!this.stopped) {
        this.timer = setTimeout(() => this.open(), this.delay);
        this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      }
    };
  }
}
