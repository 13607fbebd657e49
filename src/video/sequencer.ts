/**
 * Paints a sequence of frames in order, carrying what temporal consistency needs from one frame
 * to the next: the previous input frame (for the optical flow) and the previous stylised frame
 * (warped onto the current one by the backward flow, with its certainty mask). Used by the
 * video run (frames from ffmpeg) and by the benchmark (synthetic pans in memory).
 */
import type { RgbImage } from '../image';
import { ConsistencyMasks, warpCertainty } from './consistency';
import { computeFlow, Flow, Grey, loadOpenCv, OpenCvModule, toGrey } from './flow';
import type { FramePainter, PaintHooks, TemporalGuide } from './painter';
import { warpImage } from './warp';

export interface PaintedFrame {
  image: RgbImage;
  /** Milliseconds spent on the optical flow and masks, and on painting. */
  flowMs: number;
  paintMs: number;
}

export class TemporalSequencer {
  private previousFrame: RgbImage | null = null;
  private previousGrey: Grey | null = null;
  private previousOut: RgbImage | null = null;

  /** consistency false: every frame is painted on its own (the per-frame baseline). */
  private constructor(
    private readonly painter: FramePainter,
    private readonly consistency: boolean,
    private readonly cv: OpenCvModule | null,
  ) {}

  static async create(painter: FramePainter, consistency: boolean): Promise<TemporalSequencer> {
    return new TemporalSequencer(painter, consistency, consistency ? await loadOpenCv() : null);
  }

  /** Records a frame painted earlier (resume): the next frame is made consistent with it. */
  seed(frame: RgbImage, painted: RgbImage | null): void {
    this.previousFrame = frame;
    this.previousGrey = this.consistency ? toGrey(frame) : null;
    this.previousOut = painted;
  }

  /**
   * The guide for `frame` from the previous frame, or null for the first one. Its certainty is the
   * flow checks' mask times the photometric certainty (see consistency.ts).
   */
  guideFor(frame: RgbImage, grey: Grey): { guide: TemporalGuide; backward: Flow; masks: ConsistencyMasks } | null {
    if (!this.consistency || !this.previousGrey || !this.previousOut || !this.previousFrame) return null;
    const backward = computeFlow(this.cv!, grey, this.previousGrey);
    const forward = computeFlow(this.cv!, this.previousGrey, grey);
    const { masks, certainty } = warpCertainty(frame, this.previousFrame, backward, forward);
    return { guide: { warped: warpImage(this.previousOut, backward, 'lanczos'), certainty }, backward, masks };
  }

  /** Paints the next frame; null when cancelled mid-frame (then nothing is recorded). */
  async next(frame: RgbImage, hooks?: PaintHooks): Promise<PaintedFrame | null> {
    const t0 = performance.now();
    const grey = this.consistency ? toGrey(frame) : null;
    // Only the guide lives on while the frame is painted (the flows and masks are frame-sized too).
    const guide = grey ? this.guideFor(frame, grey)?.guide ?? null : null;
    const t1 = performance.now();
    if (hooks?.isCancelled?.()) return null;
    const image = await this.painter.paint(frame, guide, hooks);
    if (!image) return null;
    this.previousFrame = frame;
    this.previousGrey = grey;
    this.previousOut = image;
    return { image, flowMs: t1 - t0, paintMs: performance.now() - t1 };
  }
}
