/**
 * Video I/O through Debian's ffmpeg and ffprobe, spawned directly: probe a clip, decode its
 * frames as raw RGB (scaled, optionally resampled in time and trimmed), and assemble stylised
 * PNG frames plus the original audio into a video. Every ffmpeg failure becomes a one-line
 * NstError; the assembled file goes to a temporary file that is renamed into place.
 */
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import type { RgbImage } from '../image';

/** What the tools are called; NST_FFMPEG / NST_FFPROBE override the PATH lookup. */
function tool(name: 'ffmpeg' | 'ffprobe'): string {
  return (name === 'ffmpeg' ? process.env.NST_FFMPEG : process.env.NST_FFPROBE) || name;
}

/** ffmpeg or ffprobe cannot be run at all: the machine's fault, not the clip's. */
export class VideoToolMissingError extends NstError {
  constructor(message: string) {
    super(message);
    this.name = 'VideoToolMissingError';
  }
}

/** Throws a one-line NstError unless ffmpeg and ffprobe can be run. */
export function requireFfmpeg(): void {
  for (const name of ['ffmpeg', 'ffprobe'] as const) {
    const r = spawnSync(tool(name), ['-version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0) {
      throw new VideoToolMissingError(`${name} is not installed or cannot run (install it with 'apt-get install ffmpeg', or set NST_${name.toUpperCase()})`);
    }
  }
}

export interface VideoInfo {
  /** Coded size of the video stream. */
  width: number;
  height: number;
  /** Display aspect ratio (width / height) after sample aspect ratio and rotation. */
  displayAspect: number;
  /** Frame rate as ffmpeg's rational ("30000/1001") and as a number. */
  frameRate: string;
  fps: number;
  /** Seconds (of the container, or of the video stream). */
  duration: number;
  /** Frames of the video stream if the container says, else duration × fps. */
  frameCount: number;
  hasAudio: boolean;
  codec: string;
  /** ffprobe's container name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm". */
  container: string;
}

const PROBE_ARGS = ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format'];

/** Reads a clip's video stream description with ffprobe. */
export function probeVideo(file: string): VideoInfo {
  const r = spawnSync(tool('ffprobe'), [...PROBE_ARGS, file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error) throw new VideoToolMissingError(`ffprobe cannot run (install it with 'apt-get install ffmpeg'): ${r.error.message}`);
  if (r.status !== 0) throw new NstError(`'${file}' is not a readable video: ${lastLine(r.stderr) || 'ffprobe failed'}`);
  return parseProbe(file, r.stdout);
}

/** probeVideo() without blocking the event loop (a server probing uploads). */
export function probeVideoAsync(file: string): Promise<VideoInfo> {
  return new Promise((resolve, reject) => {
    execFile(tool('ffprobe'), [...PROBE_ARGS, file], { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const spawnFailed = err && typeof (err as NodeJS.ErrnoException).code === 'string';
      if (spawnFailed) return reject(new VideoToolMissingError(`ffprobe cannot run (install it with 'apt-get install ffmpeg'): ${err.message}`));
      if (err) return reject(new NstError(`'${file}' is not a readable video: ${lastLine(stderr) || 'ffprobe failed'}`));
      try {
        resolve(parseProbe(file, stdout));
      } catch (parseErr) {
        reject(parseErr);
      }
    });
  });
}

function parseProbe(file: string, stdout: string): VideoInfo {
  const probe = JSON.parse(stdout) as { streams?: any[]; format?: any };
  const streams = probe.streams ?? [];
  const formatName = String(probe.format?.format_name ?? '');
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  // Still images probe as one-frame "videos" (image2, png_pipe, …): not a clip.
  if (!video || /^image2|_pipe$/.test(formatName)) throw new NstError(`'${file}' is not a video (no video stream)`);
  const width = Number(video.width);
  const height = Number(video.height);
  if (!(width > 0 && height > 0)) throw new NstError(`'${file}' has a video stream without a frame size`);
  const frameRate = [video.avg_frame_rate, video.r_frame_rate].find((r) => rational(r) > 0) ?? '25/1';
  const fps = rational(frameRate);
  const duration = Number(probe.format?.duration ?? video.duration ?? NaN);
  const nbFrames = Number(video.nb_frames);
  const sar = rational(video.sample_aspect_ratio) || 1;
  const rotation = Math.abs(Number(video.side_data_list?.find((d: any) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0)) % 180;
  const aspect = (width * sar) / height;
  return {
    width,
    height,
    displayAspect: rotation === 90 ? 1 / aspect : aspect,
    frameRate,
    fps,
    duration: Number.isFinite(duration) ? duration : nbFrames / fps,
    frameCount: Number.isFinite(nbFrames) && nbFrames > 0 ? nbFrames : Math.round((Number.isFinite(duration) ? duration : 0) * fps),
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    codec: String(video.codec_name ?? 'unknown'),
    container: formatName,
  };
}

function rational(r: unknown): number {
  if (typeof r !== 'string') return 0;
  const [n, d] = r.split('/').map(Number);
  const v = d === undefined ? n : n / d;
  return Number.isFinite(v) && v > 0 ? v : 0;
}

function lastLine(text: string | undefined): string {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** Which part of the clip to decode, at which size and rate. */
export interface DecodeOptions {
  width: number;
  height: number;
  /** Resample to this rate (ffmpeg's fps filter); default: the clip's own. */
  fps?: number;
  /** Seconds from the start of the clip. */
  start?: number;
  /** Seconds to decode. */
  duration?: number;
}

/**
 * Decodes frames one by one as planar RGB in [0,1] (the project's RgbImage), scaled to exactly
 * width × height (area filter when shrinking). Stops ffmpeg when the consumer stops early.
 */
export async function* decodeFrames(file: string, options: DecodeOptions): AsyncGenerator<RgbImage> {
  const { width, height } = options;
  const args = ['-v', 'error', '-nostdin'];
  if (options.start) args.push('-ss', String(options.start));
  if (options.duration !== undefined) args.push('-t', String(options.duration));
  const filters = [...(options.fps ? [`fps=${options.fps}`] : []), `scale=${width}:${height}:flags=area`, 'setsar=1'];
  args.push('-i', file, '-an', '-sn', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const child = spawn(tool('ffmpeg'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new NstError(`ffmpeg cannot run (install it with 'apt-get install ffmpeg'): ${err.message}`)));
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  // One frame's bytes at a time, in one reused buffer: while a frame is painted nothing reads the
  // pipe, so ffmpeg blocks on it (a stream reads at most its highWaterMark ahead) and no frame of
  // a 4,000-px clip queues up here.
  const frameBytes = width * height * 3;
  const frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          filled = 0;
          yield rgb24ToImage(frame, width, height);
        }
      }
    }
    const code = await exited;
    if (code !== 0) throw new NstError(`cannot decode '${file}': ${lastLine(stderr) || `ffmpeg exited with code ${code}`}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function rgb24ToImage(bytes: Uint8Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[i] = bytes[3 * i] / 255;
    data[n + i] = bytes[3 * i + 1] / 255;
    data[2 * n + i] = bytes[3 * i + 2] / 255;
  }
  return { width, height, data };
}

/** Output containers and their codecs. */
const CODECS: Record<string, { video: string[]; audio: string[] }> = {
  '.mp4': { video: ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'], audio: ['-c:a', 'aac', '-b:a', '192k'] },
  '.mov': { video: ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'aac', '-b:a', '192k'] },
  '.mkv': { video: ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'aac', '-b:a', '192k'] },
  '.webm': { video: ['-c:v', 'libvpx-vp9', '-crf', '30', '-b:v', '0', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'libopus', '-b:a', '128k'] },
};
export const VIDEO_OUTPUT_EXTENSIONS = Object.keys(CODECS);

export interface AssembleOptions {
  /** printf pattern of the numbered PNG frames, from 1 (e.g. dir/frame_%06d.png). */
  framePattern: string;
  frames: number;
  /** Frame rate of the output (rational string or number). */
  frameRate: string | number;
  /** The clip whose audio track is kept (the same part as the frames: start, frames / rate). */
  audioFrom?: { file: string; start?: number; duration: number };
  output: string;
}

/** Encodes the frames (plus the audio, if any) into `output`, via a temporary file and a rename. */
export async function assembleVideo(options: AssembleOptions): Promise<void> {
  const ext = path.extname(options.output).toLowerCase();
  const codecs = CODECS[ext];
  if (!codecs) throw new NstError(`cannot write '${options.output}': unknown video extension '${ext}' (use ${VIDEO_OUTPUT_EXTENSIONS.join(', ')})`);
  const tmp = path.join(path.dirname(path.resolve(options.output)), `.${path.basename(options.output, ext)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp${ext}`);
  const args = ['-v', 'error', '-nostdin', '-y', '-framerate', String(options.frameRate), '-start_number', '1', '-i', options.framePattern];
  if (options.audioFrom) {
    if (options.audioFrom.start) args.push('-ss', String(options.audioFrom.start));
    args.push('-t', String(options.audioFrom.duration), '-i', options.audioFrom.file, '-map', '0:v:0', '-map', '1:a:0?', ...codecs.audio);
  }
  // No -frames:v / -shortest: with an audio input they cut the audio to its first packets
  // (ffmpeg 5.1); the frame sequence ends at the last finished frame and -t bounds the audio.
  args.push(...codecs.video, tmp);
  // The process quitting mid-encode (a second Ctrl-C) takes the encoder and its temporary file along.
  let child: ChildProcess | null = null;
  const onExit = () => {
    child?.kill('SIGKILL');
    fs.rmSync(tmp, { force: true });
  };
  process.once('exit', onExit);
  try {
    await new Promise<void>((resolve, reject) => {
      const encoder = spawn(tool('ffmpeg'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child = encoder;
      let stderr = '';
      encoder.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      encoder.on('error', (err) => reject(new NstError(`ffmpeg cannot run (install it with 'apt-get install ffmpeg'): ${err.message}`)));
      encoder.on('close', (code) => (code === 0 ? resolve() : reject(new NstError(`cannot encode '${options.output}': ${lastLine(stderr) || `ffmpeg exited with code ${code}`}`))));
    });
    fs.renameSync(tmp, options.output);
  } finally {
    process.off('exit', onExit);
    fs.rmSync(tmp, { force: true });
  }
}
