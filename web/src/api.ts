/** The server's HTTP API, as the page uses it (see docs/http-api.md). */

export interface Losses {
  content: number | null;
  style: number | null;
  tv: number | null;
  total: number | null;
}

export interface Progress {
  /** Jobs that fit a painting: 'fitting' (iteration = loss evaluation), then 'painting'. */
  phase?: 'fitting' | 'painting';
  iteration: number;
  iterations: number;
  losses?: Losses;
  elapsedSeconds: number;
  etaSeconds: number;
  iterationsPerSecond: number;
  /** 'frames' for a video job: iteration is the frame done, of iterations frames. */
  unit?: 'frames';
}

export interface Job {
  id: string;
  method: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  params: Record<string, unknown>;
  inputs: Record<string, { name: string; source: 'upload' | 'sample'; url: string; width: number; height: number; video?: { seconds: number; frames: number } }>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  resumes: { at: string; fromIteration: number }[];
  progress: Progress | null;
  checkpointIteration: number | null;
  queuePosition?: number;
  error: string | null;
  /** poster: a video result's first frame (JPEG). */
  result: { url: string; width: number; height: number; iterations: number; seconds: number; partial: boolean; poster?: string; details?: Record<string, unknown> } | null;
  links: { self: string; events: string; result: string | null; preview: string; report: string };
}

export type LossRow = [number, number | null, number | null, number | null, number | null];

export interface Sample {
  id: string;
  kind: 'content' | 'style';
  name: string;
  url: string;
}

export interface StyleInfo {
  name: string;
  /** The name in words: a fitted style's painting ("feathers"); absent on older servers. */
  title?: string;
  kind: 'pretrained' | 'trained' | 'fitted';
  description: string;
  /** Networks: their weights (safetensors). */
  weights?: string;
  /** Fitted styles: their vector for the arbitrary-style transformer, and the painting's thumbnail. */
  vector?: string;
  thumbnail?: string;
}

export interface StyleCatalog {
  styles: StyleInfo[];
  /** The arbitrary-style transformer's graph model (model.json), null where not installed. */
  arbitraryModel: string | null;
}

export interface ServerOptions {
  presets: { name: string; description: string; source: string }[];
  defaultPreset: string;
  qualities: { name: string; size: number; iterations: number; description: string }[];
  defaultQuality: string;
  /** The optimisation's transfer methods (absent on servers before the choice). */
  transferMethods?: { name: string; description: string; alpha: number | null }[];
  defaultTransferMethod?: string;
  limits: { maxSize: number; minSize: number; maxIterations: number; maxUploadBytes: number; maxPixels: number; maxVideoBytes?: number; maxVideoSeconds?: number };
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') message = body.error;
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, message);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const getOptions = () => api<ServerOptions>('api/options');
export const getSamples = () => api<{ samples: Sample[] }>('api/samples').then((r) => r.samples);
export const getStyles = () => api<StyleCatalog>('api/styles');
export const listJobs = (limit = 60, offset = 0) => api<{ jobs: Job[]; total: number }>(`api/jobs?limit=${limit}&offset=${offset}`);
export const getJob = (id: string) => api<Job>(`api/jobs/${id}`);
/** A small JPEG of one of a job's images (result, preview, content or style). */
export const thumbnailUrl = (id: string, image: 'result' | 'preview' | 'content' | 'style', size = 320, version = '') =>
  `api/jobs/${id}/thumbnail/${image}?size=${size}${version ? `&v=${encodeURIComponent(version)}` : ''}`;
export const createJob = (form: FormData) => api<Job>('api/jobs', { method: 'POST', body: form });
export const cancelJob = (id: string) => api<Job>(`api/jobs/${id}/cancel`, { method: 'POST' });
export const deleteJob = (id: string) => api<void>(`api/jobs/${id}`, { method: 'DELETE' });

export interface JobWatcher {
  onSnapshot?(job: Job, history: LossRow[]): void;
  onStatus?(status: string, error: string | null): void;
  onProgress?(progress: Progress): void;
  onPreview?(iteration: number, url: string): void;
  onEnd?(job: Job): void;
  onError?(message: string): void;
}

/** Follows a job's live events (Server-Sent Events); returns a function that stops. */
export function watchJob(id: string, w: JobWatcher): () => void {
  const source = new EventSource(`api/jobs/${id}/events`);
  let ended = false;
  const parse = (e: Event) => JSON.parse((e as MessageEvent).data);
  source.addEventListener('snapshot', (e) => {
    const d = parse(e);
    w.onSnapshot?.(d.job, d.history ?? []);
  });
  source.addEventListener('status', (e) => {
    const d = parse(e);
    w.onStatus?.(d.status, d.error ?? null);
  });
  source.addEventListener('progress', (e) => w.onProgress?.(parse(e)));
  source.addEventListener('preview', (e) => {
    const d = parse(e);
    w.onPreview?.(d.iteration, d.url.replace(/^\//, ''));
  });
  source.addEventListener('end', (e) => {
    ended = true;
    source.close();
    w.onEnd?.(parse(e).job);
  });
  source.onerror = () => {
    if (ended) return;
    if (source.readyState === EventSource.CLOSED) w.onError?.('lost the connection to the server');
  };
  return () => {
    ended = true;
    source.close();
  };
}

export interface GalleryWatcher {
  onJob?(job: Job): void;
  onProgress?(id: string, iteration: number, iterations: number): void;
  onPreview?(id: string, url: string): void;
  onDeleted?(id: string): void;
  /** The stream (re)connected: anything may have changed meanwhile. */
  onOpen?(): void;
}

/** Follows every job's changes (the gallery's stream, GET /api/events); reconnects by itself. */
export function watchGallery(w: GalleryWatcher): () => void {
  const source = new EventSource('api/events');
  const parse = (e: Event) => JSON.parse((e as MessageEvent).data);
  source.addEventListener('hello', () => w.onOpen?.());
  source.addEventListener('job', (e) => w.onJob?.(parse(e)));
  source.addEventListener('progress', (e) => {
    const d = parse(e);
    w.onProgress?.(d.id, d.iteration, d.iterations);
  });
  source.addEventListener('preview', (e) => {
    const d = parse(e);
    w.onPreview?.(d.id, d.url.replace(/^\//, ''));
  });
  source.addEventListener('deleted', (e) => w.onDeleted?.(parse(e).id));
  return () => source.close();
}
