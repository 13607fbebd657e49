/**
 * Validation of uploaded videos, before a job is created: ffprobe must read the file as a clip
 * with frames (still images are not clips), and the clip must be within the server's limits on
 * size, duration and frame size. A client's mistake is a 4xx with one line; a server that cannot
 * run ffprobe answers 503 (its own fault, not the clip's).
 */
import * as fs from 'node:fs';
import { NstError } from '../errors';
import { probeVideoAsync, VideoInfo, VideoToolMissingError } from '../video/ffmpeg';
import { HttpError, oneLine } from '../jobs/http-error';
import type { VideoInputInfo } from '../jobs/store';

export interface VideoLimits {
  maxBytes: number;
  maxSeconds: number;
  /** Largest frame, pixels (width × height as stored). */
  maxPixels: number;
  /** Most frames (the job's painter is held to the same number). */
  maxFrames: number;
}

export interface CheckedVideo {
  /** Container, e.g. mp4, webm, mkv. */
  format: string;
  bytes: number;
  /** The extension the job's copy gets (players and ffmpeg look at the bytes, not the name). */
  extension: string;
  width: number;
  height: number;
  video: VideoInputInfo;
}

/** Checks a video file; throws HttpError 400 (empty, no frames), 413 (over a limit), 415 (not a video) or 503. */
export async function checkVideo(file: string, limits: VideoLimits): Promise<CheckedVideo> {
  const bytes = (await fs.promises.stat(file)).size;
  if (bytes === 0) throw new HttpError(400, `the video is empty`);
  if (bytes > limits.maxBytes) throw new HttpError(413, `the video is ${mib(bytes)}, over the server's limit of ${mib(limits.maxBytes)}`);
  let info: VideoInfo;
  try {
    info = await probeVideoAsync(file);
  } catch (err) {
    if (err instanceof VideoToolMissingError) throw new HttpError(503, 'this server cannot read videos: ffprobe is not installed');
    if (err instanceof NstError) throw new HttpError(415, `the file is not a video ffmpeg can read (${probeReason(err.message)})`);
    throw err;
  }
  if (info.frameCount < 1 || !(info.duration > 0)) throw new HttpError(400, `the video has no frames`);
  if (info.duration > limits.maxSeconds) {
    throw new HttpError(413, `the video is ${info.duration.toFixed(1)} s long, over the server's limit of ${limits.maxSeconds} s`);
  }
  if (info.width * info.height > limits.maxPixels) {
    throw new HttpError(413, `the video's frames are ${info.width}x${info.height} (${info.width * info.height} pixels), over the server's limit of ${limits.maxPixels} pixels`);
  }
  // Counted as the painter counts them (duration × rate), or as the container says when that is more.
  const frames = Math.max(info.frameCount, Math.round(info.duration * info.fps));
  if (frames > limits.maxFrames) throw new HttpError(413, `the video has ${frames} frames; this server accepts at most ${limits.maxFrames}`);
  const { format, extension } = containerOf(info);
  return {
    format,
    bytes,
    extension,
    width: info.width,
    height: info.height,
    video: { seconds: round3(info.duration), frameRate: info.frameRate, frames: info.frameCount, hasAudio: info.hasAudio, codec: info.codec },
  };
}

/** ffprobe names containers by family ("mov,mp4,m4a,…"; "matroska,webm"): one name and extension. */
function containerOf(info: VideoInfo): { format: string; extension: string } {
  const names = info.container.split(',');
  if (names.includes('mp4') || names.includes('mov')) return { format: 'mp4', extension: '.mp4' };
  if (names.includes('webm')) return ['vp8', 'vp9', 'av1'].includes(info.codec) ? { format: 'webm', extension: '.webm' } : { format: 'mkv', extension: '.mkv' };
  if (names.includes('avi')) return { format: 'avi', extension: '.avi' };
  const name = (names[0] || 'video').replace(/[^a-z0-9]/g, '').slice(0, 12) || 'video';
  return { format: name, extension: `.${name}` };
}

/** ffprobe's reason without the server's file path. */
function probeReason(message: string): string {
  const why = oneLine(message).replace(/^'[^']*' (is )?/, '').replace(/[^\s]*\/uploads\/[0-9a-f]+\.upload:?\s*/g, '');
  return why || 'unreadable';
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
