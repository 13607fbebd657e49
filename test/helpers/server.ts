/** Helpers of the server and web tests: test images, a server on a free port, SSE and HTTP clients. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/models/model-dir';
import { startServer, RunningServer, ServeOptions } from '../../src/server';
import { MODELS_DIR, REFERENCE_DIR } from './reference';

/** Small real images from the shared reference folder (128×96 photo, 128×80 painting). */
export const CONTENT_PNG = path.join(REFERENCE_DIR, 'content.png');
export const STYLE_PNG = path.join(REFERENCE_DIR, 'style.png');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A samples folder (content/, style/) holding copies of the two small reference images. */
export function makeSamplesDir(): string {
  const dir = tempDir('nst-samples-');
  fs.mkdirSync(path.join(dir, 'content'));
  fs.mkdirSync(path.join(dir, 'style'));
  fs.copyFileSync(CONTENT_PNG, path.join(dir, 'content', 'tiny_photo.png'));
  fs.copyFileSync(STYLE_PNG, path.join(dir, 'style', 'tiny_painting.png'));
  return dir;
}

/** A server on a free port of 127.0.0.1; its close() also removes the samples folder it made. */
export async function startTestServer(options: ServeOptions = {}): Promise<RunningServer & { dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir('nst-data-');
  const samplesDir = makeSamplesDir();
  let server: RunningServer;
  try {
    server = await startServer({ port: 0, dataDir, modelDir: MODELS_DIR, samplesDir, workers: 1, threads: 2, ...options });
  } catch (err) {
    fs.rmSync(samplesDir, { recursive: true, force: true });
    throw err;
  }
  const close = server.close;
  return Object.assign(server, {
    dataDir,
    close: async () => {
      await close();
      fs.rmSync(samplesDir, { recursive: true, force: true });
    },
  });
}

export interface SseEvent {
  event: string;
  data: any;
}

/** Reads a Server-Sent Events stream until it ends (or `until` says stop); returns every event. */
export async function readEvents(url: string, options: { headers?: Record<string, string>; until?: (e: SseEvent) => boolean; timeoutMs?: number } = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 120_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...options.headers }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length === 0) continue;
        const e = { event, data: JSON.parse(data.join('\n')) };
        events.push(e);
        if (options.until?.(e)) {
          controller.abort();
          return events;
        }
      }
    }
    return events;
  } catch (err) {
    if (controller.signal.aborted && (err as Error).name === 'AbortError') {
      if (options.until && events.length > 0 && options.until(events[events.length - 1])) return events;
      throw new Error(`SSE ${url} timed out after ${events.length} events`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}

/** A multipart job request: `files` maps field → path, the rest are text fields. */
export function jobForm(fields: Record<string, string | number | boolean>, files: Record<string, string | { name: string; bytes: Buffer; type?: string }> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
  for (const [k, f] of Object.entries(files)) {
    const file = typeof f === 'string' ? { name: path.basename(f), bytes: fs.readFileSync(f), type: 'image/png' } : f;
    form.append(k, new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }), file.name);
  }
  return form;
}

/** Polls a job until `done(job)` holds. */
export async function waitForJob(base: string, id: string, done: (job: any) => boolean, timeoutMs = 120_000, headers: Record<string, string> = {}): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = await json(await fetch(`${base}/api/jobs/${id}`, { headers }));
    if (done(job)) return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status} (${JSON.stringify(job.progress)}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `nst serve` as a child process; resolves once it prints its URL. */
export async function spawnServer(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'nst.js'), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nst serve did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+?)\/?\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nst serve exited with ${code}: ${err}`));
    });
  });
  return { child, url, stderr: () => err };
}

export function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, 'test-artifacts');

/**
 * Fills the file system under `mnt` (a small tmpfs) to its last byte with one file, and returns
 * that file's path (remove it to free the space). Only ENOSPC ends it; any other error is thrown.
 */
export function fillFileSystem(mnt: string): string {
  const filler = path.join(mnt, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 512, 1]) {
      const block = Buffer.alloc(size, 1);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}
