/**
 * Joins painted chunks into one clip: the kept frames of every chunk in order, into one numbered
 * sequence, then encoded with the source's audio at the source's frame rate (assembleVideo: a
 * temporary file renamed into place). At each join the last `crossfade` frames before the next
 * chunk's first kept frame are blended linearly from the earlier chunk's painting into the later
 * one's (both painted those frames: the later one as its overlap), so whatever difference is left
 * between two chunks' looks is spread over several frames instead of jumping at one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { loadImage, RgbImage, saveImage } from '../../image';
import { assembleVideo } from '../ffmpeg';
import { FrameStore } from '../frame-store';
import { CHUNK_DEFAULTS, VideoChunk } from './plan';

/** The folder of chunk `index`'s frames under the join's folder. */
export function chunkFramesDir(root: string, index: number): string {
  return path.join(root, `chunk-${String(index).padStart(3, '0')}`);
}

/** The last frame of a run of saved frames from `first` on, without a gap (first − 1: none). */
export function lastContiguousFrame(dir: string, first: number): number {
  let k = first;
  while (fs.existsSync(FrameStore.framePath(dir, k))) k++;
  return k - 1;
}

export interface JoinOptions {
  chunks: VideoChunk[];
  /** Holds chunkFramesDir(root, i) for every chunk, as paintChunk wrote them. */
  root: string;
  /** Where the joined sequence is written (frame_000001.png on). */
  sequenceDir: string;
  output: string;
  frameRate: string;
  /** The clip whose audio is kept (its first `frames / rate` seconds from `start`). */
  audioFrom?: { file: string; start?: number };
  /** Overlap frames cross-faded at each join (at most the overlap). Default: the fast method's. */
  crossfade?: number;
}

export interface JoinResult {
  frames: number;
  /** Kept frames of each chunk. */
  kept: number[];
  /** Frames blended at the joins. */
  blended: number;
}

/** Writes the joined sequence (see the file comment); returns the frames in it. */
export async function joinSequence(o: Omit<JoinOptions, 'output' | 'frameRate' | 'audioFrom'>): Promise<JoinResult> {
  fs.rmSync(o.sequenceDir, { recursive: true, force: true });
  fs.mkdirSync(o.sequenceDir, { recursive: true });
  const crossfade = Math.max(0, Math.round(o.crossfade ?? CHUNK_DEFAULTS.fast.crossfade));
  const kept: number[] = [];
  let out = 0;
  let blended = 0;
  for (const chunk of o.chunks) {
    const dir = chunkFramesDir(o.root, chunk.index);
    const last = Math.min(lastContiguousFrame(dir, chunk.paintFrom), chunk.keepTo ?? Infinity);
    const count = Math.max(0, last - chunk.keepFrom + 1);
    if (chunk.index > 0 && count > 0) {
      if (out !== chunk.keepFrom - 1) throw new NstError(`frames ${out + 1}–${chunk.keepFrom - 1} are missing before chunk ${chunk.index + 1}`);
      // The previous chunk's last frames, blended towards this chunk's painting of them.
      const fade = Math.min(crossfade, chunk.keepFrom - chunk.paintFrom, lastContiguousFrame(dir, chunk.paintFrom) - chunk.paintFrom + 1);
      for (let j = 0; j < fade; j++) {
        const frame = chunk.keepFrom - fade + j;
        const alpha = (j + 1) / (fade + 1);
        const earlier = await loadImage(FrameStore.framePath(o.sequenceDir, frame));
        const later = await loadImage(FrameStore.framePath(dir, frame));
        await saveImage(mix(earlier, later, alpha), FrameStore.framePath(o.sequenceDir, frame));
        blended++;
      }
    }
    for (let f = chunk.keepFrom; f <= last; f++) fs.copyFileSync(FrameStore.framePath(dir, f), FrameStore.framePath(o.sequenceDir, ++out));
    // A chunk cut short by the clip's end leaves the later ones empty (a gap above, otherwise).
    kept.push(count);
  }
  if (out === 0) throw new NstError('no painted frames to join');
  return { frames: out, kept, blended };
}

/** Joins the chunks and encodes the clip with the source's audio. */
export async function joinChunks(o: JoinOptions): Promise<JoinResult> {
  const joined = await joinSequence(o);
  const store = FrameStore.existing(o.sequenceDir);
  await assembleVideo({
    framePattern: store.pattern,
    frames: joined.frames,
    frameRate: o.frameRate,
    audioFrom: o.audioFrom ? { file: o.audioFrom.file, start: o.audioFrom.start, duration: joined.frames / rational(o.frameRate) } : undefined,
    output: o.output,
  });
  return joined;
}

/** (1 − alpha) a + alpha b. */
function mix(a: RgbImage, b: RgbImage, alpha: number): RgbImage {
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (1 - alpha) * a.data[i] + alpha * b.data[i];
  return { width: a.width, height: a.height, data };
}

function rational(r: string): number {
  const [n, d] = r.split('/').map(Number);
  return d === undefined ? n : n / d;
}
