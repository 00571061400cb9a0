// Collects updates and applies them together once per animation frame. A 500-unit job can send
// hundreds of unit messages a second; applying each on arrival would re-render the page more
// often than the screen refreshes. Later updates to the same key replace earlier ones.

export class FrameBatcher<T> {
  private pending = new Map<string, T>();
  private scheduled = false;

  constructor(
    private readonly apply: (items: T[]) => void,
    // Tests and hidden tabs: requestAnimationFrame does not run in the background, so a timer
    // takes over there to keep state current.
    private readonly schedule: (fn: () => void) => void = defaultSchedule,
  ) {}

  push(key: string, item: T): void {
    this.pending.set(key, item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) {
      return;
    }
    const items = [...this.pending.values()];
    this.pending.clear();
    this.apply(items);
  }
}

function defaultSchedule(fn: () => void): void {
  if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && !document.hidden) {
    requestAnimationFrame(() => fn());
  } else {
    setTimeout(fn, 50);
  }
}
