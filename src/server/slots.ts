/**
 * A counting semaphore for expensive requests (uploads): at most `size` run at once, and at most
 * `perClient` for any one client (remote address), so that one client cannot take every slot;
 * the others wait in arrival order, up to a deadline. A waiting upload's body is not read
 * meanwhile, so TCP flow control holds the client back and memory stays bounded.
 */
export type SlotGrant = { release: () => void } | { refused: 'busy' | 'client' };

interface Waiter {
  client: string;
  grant: () => void;
}

export class Slots {
  private active = 0;
  private readonly byClient = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(readonly size: number, readonly perClient: number = size) {}

  get inUse(): number {
    return this.active;
  }

  /** Slots `client` holds now. */
  heldBy(client: string): number {
    return this.byClient.get(client) ?? 0;
  }

  /**
   * Resolves with a release function, or with why no slot freed up within `timeoutMs`: 'client'
   * when this client held its share all along the wait, 'busy' when every slot was taken.
   */
  acquire(client: string, timeoutMs: number): Promise<SlotGrant> {
    if (this.free(client)) return Promise.resolve({ release: this.take(client) });
    return new Promise((resolve) => {
      const waiter: Waiter = {
        client,
        grant: () => {
          clearTimeout(timer);
          resolve({ release: this.take(client) });
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve({ refused: this.heldBy(client) >= this.perClient ? 'client' : 'busy' });
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }

  private free(client: string): boolean {
    return this.active < this.size && this.heldBy(client) < this.perClient;
  }

  private take(client: string): () => void {
    this.active++;
    this.byClient.set(client, this.heldBy(client) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const held = this.heldBy(client) - 1;
      if (held > 0) this.byClient.set(client, held);
      else this.byClient.delete(client);
      this.grantWaiting();
    };
  }

  /** The first waiters (in arrival order) whose client is under its share get the free slots. */
  private grantWaiting(): void {
    for (let i = 0; i < this.waiting.length && this.active < this.size; ) {
      if (this.heldBy(this.waiting[i].client) < this.perClient) this.waiting.splice(i, 1)[0].grant();
      else i++;
    }
  }
}
