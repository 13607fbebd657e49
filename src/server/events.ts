/**
 * Live job events, fanned out to Server-Sent Event streams. Each stream first gets a `snapshot`
 * (the job and its loss history), then `status`, `progress` and `preview` events as they happen,
 * and an `end` event (the final job) after which the server closes it. A comment line every 15 s
 * keeps proxies from closing idle streams.
 */
import type { ServerResponse } from 'node:http';

export type JobEventName = 'snapshot' | 'status' | 'progress' | 'preview' | 'end';
export type JobListener = (event: JobEventName, data: unknown) => void;
/** Hears the events of every job (the gallery's live stream). */
export type AnyJobListener = (jobId: string, event: JobEventName, data: unknown) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<JobListener>>();
  private readonly anyListeners = new Set<AnyJobListener>();

  subscribeAll(listener: AnyJobListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  subscribe(jobId: string, listener: JobListener): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId);
    };
  }

  publish(jobId: string, event: JobEventName, data: unknown): void {
    for (const listener of [...this.anyListeners]) {
      try {
        listener(jobId, event, data);
      } catch {
        // as below
      }
    }
    const set = this.listeners.get(jobId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event, data);
      } catch {
        // A broken stream must not stop the others.
      }
    }
  }

  get streamCount(): number {
    let n = this.anyListeners.size;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

/** One SSE stream on a raw Node response. */
export class SseStream {
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private counter = 0;

  constructor(private readonly res: ServerResponse, headers: Record<string, string> = {}) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      ...headers,
    });
    res.write('retry: 2000\n\n');
    this.heartbeat = setInterval(() => this.comment('ping'), 15_000);
    this.heartbeat.unref();
    res.on('close', () => this.cleanup());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown): void {
    if (this.closed) return;
    this.res.write(`id: ${++this.counter}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.res.on('close', fn);
  }

  close(): void {
    if (this.closed) return;
    this.cleanup();
    this.res.end();
  }

  private cleanup(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
  }
}
