/**
 * A counting semaphore for expensive requests (uploads): at most `size` run at once; the others
 * wait in arrival order, up to a deadline. A waiting upload's body is not read meanwhile, so TCP
 * flow control holds the client back and memory stays bounded.
 */
export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.active;
  }

  /** Resolves with a release function, or null when no slot freed up within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<(() => void) | null> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        this.active++;
        resolve(this.releaser());
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
