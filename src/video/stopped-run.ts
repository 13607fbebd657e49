/**
 * The end of a run whose compute thread was stopped mid-frame. One frame of a large clip can be
 * a minute of native computation that no cancellation flag reaches, so after the first Ctrl-C the
 * CLI lets the thread finish its frame for STOP_GRACE_MS, then terminates it and calls this: the
 * frames folder is the run's record, and what it holds is assembled here as the run would have.
 */
import { peakResidentBytes } from '../transfer/memory';
import { MIB } from '../transfer/tiling/memory-size';
import { assembleFinished } from './assemble';
import { FrameStore } from './frame-store';
import type { ResolvedVideoOptions } from './options';
import { clipFields } from './run';
import type { VideoProgress, VideoResult } from './run';

/** How long the first Ctrl-C waits for the frame in progress before dropping it. */
export const STOP_GRACE_MS = 3000;

/** What the caller saw of the run before stopping it (from its progress events). */
export interface StoppedRunState {
  /** Date.now() when the run started. */
  started: number;
  /** The run had opened its frames folder ('painting' event): before that, the folder is an earlier run's. */
  painting: boolean;
  resumed: number;
  painted: number;
}

/** Assembles the frames the stopped run finished into its output (partial); keeps the folder for --resume. */
export async function finishStoppedRun(o: ResolvedVideoOptions, state: StoppedRunState, onProgress?: (p: VideoProgress) => void): Promise<VideoResult> {
  let frames = 0;
  if (state.painting) {
    const store = FrameStore.existing(o.framesDir);
    store.removeUnfinishedWrites();
    frames = await assembleFinished(o, store, true, onProgress);
  }
  const peak = peakResidentBytes();
  return {
    ...clipFields(o),
    frames,
    painted: Math.max(0, Math.min(state.painted, frames - state.resumed)),
    resumed: Math.min(state.resumed, frames),
    cancelled: true,
    written: frames > 0,
    framesDir: state.painting ? o.framesDir : null,
    seconds: (Date.now() - state.started) / 1000,
    flowMs: 0,
    paintMs: 0,
    firstFrameMs: null,
    threads: o.threads ?? 0,
    precision: '',
    memory: { budgetMiB: Math.round(o.maxMemory / MIB), baseMiB: 0, peakMiB: Math.round(peak / MIB), overBudget: peak > o.maxMemory, tile: null, tiledFrames: 0 },
  };
}
