/**
 * The last step of a run, also of one stopped early: the finished frames of the frames folder
 * (1…k without a gap) and the clip's audio for as long are encoded into the output (atomically:
 * a temporary file renamed into place, see ffmpeg.ts).
 */
import { assembleVideo } from './ffmpeg';
import type { FrameStore } from './frame-store';
import type { ResolvedVideoOptions } from './options';
import type { VideoProgress } from './progress';

/** Encodes the finished frames; returns how many (0: nothing was written). */
export async function assembleFinished(o: ResolvedVideoOptions, store: FrameStore, partial: boolean, onProgress?: (p: VideoProgress) => void): Promise<number> {
  const frames = store.finishedFrames();
  if (frames === 0) return 0;
  onProgress?.({ type: 'assembling', frames, partial });
  await assembleVideo({
    framePattern: store.pattern,
    frames,
    frameRate: o.frameRate,
    audioFrom: o.clip.hasAudio ? { file: o.input, start: o.start, duration: frames / rational(o.frameRate) } : undefined,
    output: o.output,
  });
  return frames;
}

function rational(r: string): number {
  const [n, d] = r.split('/').map(Number);
  return d === undefined ? n : n / d;
}
