/** What a video run reports while it paints (library hooks, the CLI's progress line, the job's events). */
export type VideoProgress =
  | {
      type: 'frame';
      /** Frame just finished (from 1), of `frames` expected. */
      frame: number;
      frames: number;
      /** Frames skipped because an earlier run had finished them (--resume). */
      resumed: number;
      framesPerSecond: number;
      etaSeconds: number;
      /** This frame: flow + masks, and painting, in ms. */
      flowMs: number;
      paintMs: number;
    }
  | { type: 'iteration'; frame: number; iteration: number; iterations: number; loss: number }
  /** The frames folder is this run's (after the network loaded and the size was found to fit). */
  | { type: 'painting'; framesDir: string; resumed: number }
  | { type: 'assembling'; frames: number; partial: boolean }
  | { type: 'warning'; message: string };
