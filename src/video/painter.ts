/**
 * What the two methods share: a painter turns one frame into its stylised version, given (from
 * the second frame on) the previous stylised frame warped onto this one and the per-pixel
 * certainty of that warp.
 */
import type { RgbImage } from '../image';

export interface TemporalGuide {
  /** The previous stylised frame, warped by the backward flow onto the current frame. */
  warped: RgbImage;
  /**
   * In [0,1]: 0 where the warp is unreliable (occlusion, motion boundary, out-of-frame source),
   * else how well the warped previous input frame matches this one (1 = exactly).
   */
  certainty: Float32Array;
}

export interface PaintHooks {
  /** Optimisation: called after each iteration of the frame. */
  onIteration?(iteration: number, iterations: number, loss: number): void;
  /** Polled during a frame; a painter that sees it returns null (the frame is dropped, not saved half-done). */
  isCancelled?(): boolean;
}

export interface FramePainter {
  /** null when cancelled mid-frame. */
  paint(frame: RgbImage, guide: TemporalGuide | null, hooks?: PaintHooks): Promise<RgbImage | null>;
  /** Side of the tiles the last frame was painted in to fit the memory budget; null: in one piece. */
  readonly tile: number | null;
  dispose(): void;
}
