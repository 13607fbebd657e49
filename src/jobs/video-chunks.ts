/**
 * A video job in chunks, for queues whose workers are other processes (src/queue): the chunk
 * plan of a recorded job, one chunk painted on a worker with every finished frame put in the
 * shared storage at once (so a worker that dies loses only the frames it had not stored, and the
 * chunk resumes after its last stored frame), and the join that makes the job's result from the
 * stored frames. What carries the chunks to workers is the queue's business.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeImage, loadImage } from '../image';
import { resolveVideoOptions } from '../video';
import { CHUNK_DEFAULTS, chunkFramesDir, ChunkResult, joinChunks, paintChunk, planChunks, VideoChunk } from '../video/chunks';
import { decodeFrames } from '../video/ffmpeg';
import { FrameStore } from '../video/frame-store';
import { jobKey, Storage } from '../storage';
import { writeAtomic } from './files';
import type { JobOutcome, JobRunContext, RunSettings } from './kinds';
import { videoOptions, VIDEO_POSTER, VIDEO_RESULT } from './kinds/video';
import type { VideoJobParams } from './kinds/video';
import type { JobRecord } from './store';

/** Seconds of the clip a chunk keeps when the job does not say (chunkFrames). */
export const CHUNK_SECONDS = 5;
const PREVIEW_EVERY_MS = 1000;
const FRAME_FILE = /^frame_(\d{6})\.png$/;

/** Frames of the job's clip as the upload counted them (the painter's count is authoritative). */
export function clipFrames(job: Pick<JobRecord, 'inputs'>): number {
  const v = job.inputs.content?.video;
  if (!v) return 1;
  const [n, d] = v.frameRate.split('/').map(Number);
  const fps = d ? n / d : n;
  return Math.max(1, v.frames, Math.round(v.seconds * (fps || 0)));
}

export function planVideoJob(job: Pick<JobRecord, 'inputs' | 'params'>, maxFrames?: number): VideoChunk[] {
  const p = job.params as unknown as VideoJobParams;
  const v = job.inputs.content?.video;
  const [n, d] = (v?.frameRate ?? '25').split('/').map(Number);
  const fps = (d ? n / d : n) || 25;
  const frames = Math.min(clipFrames(job), maxFrames ?? Infinity);
  return planChunks(frames, { chunkFrames: p.chunkFrames ?? Math.round(CHUNK_SECONDS * fps), method: p.fastStyle ? 'fast' : 'optimisation' });
}

/** The storage folder of a chunk's frames. */
export function chunkKey(jobId: string, chunk: number, file = ''): string {
  return jobKey(jobId, `chunks/${path.basename(chunkFramesDir('', chunk))}/${file}`);
}

/** Frames of the chunk in the storage: from its first painted frame on, without a gap. */
async function storedFrames(storage: Storage, jobId: string, chunk: VideoChunk): Promise<number> {
  const have = new Set<number>();
  for (const key of await storage.list(chunkKey(jobId, chunk.index))) {
    const m = FRAME_FILE.exec(path.posix.basename(key));
    if (m) have.add(Number(m[1]));
  }
  let k = chunk.paintFrom;
  while (have.has(k)) k++;
  return k - 1;
}

export interface ChunkRun {
  storage: Storage;
  job: JobRecord;
  chunk: VideoChunk;
  settings: RunSettings;
  /** A local folder of this run (inputs are in it already). */
  dir: string;
  inputs: JobRunContext['inputs'];
  signal: AbortSignal;
  /** Before the first frame: the frame an earlier run stored up to (null: none). */
  onStart(resumedFrom: number | null): void;
  /** After each frame is stored: frames of the chunk's kept range stored so far (resumed ones too). */
  onFrame(frame: number, kept: number): void;
  /** A frame's preview (JPEG) is in the storage as preview.jpg. */
  onPreview(frame: number): void;
}

export interface ChunkOutcome extends ChunkResult {
  /** The frame an earlier run of the chunk had stored up to (null: none). */
  resumedFrom: number | null;
  /** Frames of the kept range stored. */
  kept: number;
  seconds: number;
}

/** Paints one chunk, storing each frame as it is done (see the file comment). */
export async function paintVideoChunk(run: ChunkRun): Promise<ChunkOutcome> {
  const started = Date.now();
  const { storage, job, chunk } = run;
  const video = resolveVideoOptions(videoOptions({ ...run.settings, job, inputs: run.inputs }, path.join(run.dir, VIDEO_RESULT)));
  const framesDir = path.join(run.dir, 'frames');
  fs.mkdirSync(framesDir, { recursive: true });
  const stored = await storedFrames(storage, job.id, chunk);
  let resume: { frame: number; painted: string } | null = null;
  if (stored >= chunk.paintFrom) {
    const bytes = await storage.get(chunkKey(job.id, chunk.index, path.basename(FrameStore.framePath('', stored))));
    if (bytes) {
      resume = { frame: stored, painted: FrameStore.framePath(framesDir, stored) };
      await fs.promises.writeFile(resume.painted, bytes);
    }
  }
  const keptBefore = (frame: number) => Math.max(0, frame - chunk.keepFrom + 1);
  run.onStart(resume?.frame ?? null);
  if (resume) run.onFrame(resume.frame, keptBefore(resume.frame));
  // Frames are stored one after the other, in order: what is stored has no gap.
  let storing: Promise<void> = Promise.resolve();
  let storeError: unknown = null;
  let lastPreview = 0;
  const store = (frame: number, file: string, kept: boolean) => {
    storing = storing.then(async () => {
      if (storeError) return;
      try {
        await storage.put(chunkKey(job.id, chunk.index, path.basename(file)), await fs.promises.readFile(file));
        run.onFrame(frame, keptBefore(frame));
        if (kept && Date.now() - lastPreview >= PREVIEW_EVERY_MS) {
          lastPreview = Date.now();
          await storage.put(jobKey(job.id, 'preview.jpg'), await encodeImage(await loadImage(file), 'jpeg', { quality: 90 }));
          run.onPreview(frame);
        }
      } catch (err) {
        storeError = err;
        stop.abort();
      }
    });
  };
  const stop = new AbortController();
  run.signal.addEventListener('abort', () => stop.abort(), { once: true });
  if (run.signal.aborted) stop.abort();
  let result: ChunkResult;
  try {
    result = await paintChunk(
      { video, chunk, framesDir, resume, maxFrames: run.settings.maxVideoFrames },
      { signal: stop.signal, onProgress: (p) => (p.type === 'frame' ? store(p.frame, p.file, p.kept) : undefined) },
    );
  } finally {
    await storing;
  }
  if (storeError) throw storeError;
  const last = result.painted > 0 || resume ? Math.max(result.lastFrame, resume?.frame ?? 0) : result.lastFrame;
  return { ...result, lastFrame: last, resumedFrom: resume?.frame ?? null, kept: keptBefore(Math.min(last, chunk.keepTo ?? Infinity)), seconds: (Date.now() - started) / 1000 };
}

export interface JoinRun {
  storage: Storage;
  job: JobRecord;
  chunks: VideoChunk[];
  settings: RunSettings;
  dir: string;
  inputs: JobRunContext['inputs'];
  /** What each chunk's run reported (for the result's details), by chunk index. */
  reports: { index: number; worker?: string; seconds?: number; painted?: number; resumedFrom?: number | null }[];
}

/** Joins the stored chunks into the job's result (result.mp4 and its poster in `dir`). */
export async function joinVideoChunks(run: JoinRun): Promise<JobOutcome> {
  const started = Date.now();
  const { storage, job } = run;
  const p = job.params as unknown as VideoJobParams;
  const video = resolveVideoOptions(videoOptions({ ...run.settings, job, inputs: run.inputs }, path.join(run.dir, VIDEO_RESULT)));
  const root = path.join(run.dir, 'chunks');
  for (const chunk of run.chunks) {
    const dir = chunkFramesDir(root, chunk.index);
    fs.mkdirSync(dir, { recursive: true });
    for (const key of await storage.list(chunkKey(job.id, chunk.index))) {
      const name = path.posix.basename(key);
      if (!FRAME_FILE.test(name)) continue;
      const bytes = await storage.get(key);
      if (bytes) await fs.promises.writeFile(path.join(dir, name), bytes);
    }
  }
  const output = path.join(run.dir, VIDEO_RESULT);
  const joined = await joinChunks({
    chunks: run.chunks,
    root,
    sequenceDir: path.join(run.dir, 'sequence'),
    output,
    frameRate: video.frameRate,
    audioFrom: video.clip.hasAudio ? { file: video.input, start: video.start } : undefined,
    crossfade: CHUNK_DEFAULTS[video.method].crossfade,
  });
  const poster = path.join(run.dir, VIDEO_POSTER);
  for await (const frame of decodeFrames(output, { width: video.width, height: video.height })) {
    await writeAtomic(poster, await encodeImage(frame, 'jpeg', { quality: 88 }));
    break;
  }
  const painted = run.reports.reduce((s, r) => s + (r.painted ?? 0), 0);
  const seconds = run.reports.reduce((s, r) => s + (r.seconds ?? 0), 0) + (Date.now() - started) / 1000;
  return {
    cancelled: false,
    image: null,
    file: { name: VIDEO_RESULT, width: video.width, height: video.height, ...(fs.existsSync(poster) ? { poster: VIDEO_POSTER } : {}) },
    iterations: joined.frames,
    seconds,
    details: {
      method: video.method,
      style: video.styleName,
      frames: joined.frames,
      frameRate: video.frameRate,
      hasAudio: video.clip.hasAudio,
      paintedFrames: painted,
      consistency: p.consistency,
      chunks: run.chunks.map((c, i) => ({ ...c, kept: joined.kept[i] ?? 0, ...(run.reports.find((r) => r.index === c.index) ?? {}) })),
      blendedAtJoins: joined.blended,
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
    },
  };
}
