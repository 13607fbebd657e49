/** ffmpeg for the video tests: whether it is here, and a runner that fails loudly. */
import { spawnSync } from 'node:child_process';

export const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 && spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
export const needsFfmpeg = HAS_FFMPEG ? {} : { skip: 'ffmpeg is not installed (apt-get install ffmpeg)' };

export function ffmpeg(...args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}
