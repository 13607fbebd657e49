/**
 * The folder of finished frames beside the output (`out.mp4.frames/`): each stylised frame is
 * written there (atomically, PNG) as soon as it is done, so an interrupted run loses at most the
 * frame in progress, `--resume` continues after the last finished frame, and a partial video can
 * be assembled at any time. `settings.json` records what the frames were made with; resuming
 * with other settings is refused rather than mixing two looks in one clip.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { loadImage, RgbImage, saveImage } from '../image';
import { writeFileAtomicSync } from '../util/atomic-write';

const SETTINGS = 'settings.json';

export class FrameStore {
  private constructor(readonly dir: string) {}

  /**
   * Opens the folder. With resume, keeps the frames made with the same settings (and refuses
   * other settings); without, clears what an earlier run left. Returns the frames to skip.
   */
  static open(dir: string, settings: object, resume: boolean): { store: FrameStore; finished: number; discarded: number } {
    const store = new FrameStore(dir);
    const wanted = JSON.stringify(settings);
    let discarded = 0;
    if (fs.existsSync(dir)) {
      const recorded = readText(path.join(dir, SETTINGS));
      if (resume && recorded !== null && recorded !== wanted) {
        throw new NstError(`the frames in '${dir}' were painted with other settings; run without --resume to start over`);
      }
      if (!resume || recorded === null) {
        discarded = store.finishedFrames();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    try {
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomicSync(path.join(dir, SETTINGS), wanted);
    } catch (err) {
      throw new NstError(`cannot write the frames folder '${dir}': ${String((err as Error).message).split('\n')[0]}`);
    }
    return { store, finished: store.finishedFrames(), discarded };
  }

  /**
   * The folder as a run left it, without touching its settings (to assemble what a stopped run
   * finished).
   */
  static existing(dir: string): FrameStore {
    return new FrameStore(dir);
  }

  /** Frame i (from 1). */
  framePath(i: number): string {
    return FrameStore.framePath(this.dir, i);
  }

  /** Frame i (from 1) of the frames folder `dir`, for readers outside the run (a server's previews). */
  static framePath(dir: string, i: number): string {
    return path.join(dir, `frame_${String(i).padStart(6, '0')}.png`);
  }

  /** The printf pattern ffmpeg reads the frames with. */
  get pattern(): string {
    return path.join(this.dir, 'frame_%06d.png');
  }

  /** Finished frames 1…k without a gap (each frame depends on the one before). */
  finishedFrames(): number {
    let k = 0;
    while (fs.existsSync(this.framePath(k + 1))) k++;
    return k;
  }

  async save(i: number, image: RgbImage): Promise<void> {
    await saveImage(image, this.framePath(i));
  }

  async load(i: number): Promise<RgbImage> {
    return loadImage(this.framePath(i));
  }

  /**
   * Removes the temporary files of frames whose writing was cut short (a compute thread stopped
   * mid-save): only this process's (atomic-write names carry the pid).
   */
  removeUnfinishedWrites(): void {
    if (!fs.existsSync(this.dir)) return;
    const mine = new RegExp(`^\\.frame_\\d+\\.png\\.${process.pid}\\.[0-9a-f]+\\.tmp$`);
    for (const name of fs.readdirSync(this.dir, { withFileTypes: true })) {
      if (name.isFile() && mine.test(name.name)) fs.rmSync(path.join(this.dir, name.name), { force: true });
    }
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
