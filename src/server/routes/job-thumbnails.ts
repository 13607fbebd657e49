/**
 * Small JPEG thumbnails of a job's images for the gallery: GET /api/jobs/:id/thumbnail/:image
 * with image = result, preview, content or style and ?size= (16…1024, default 320) the longest
 * side. A video's thumbnail is its first frame (the result's: its poster). Uploads can be large; sixty gallery cards must not each load a full-size photo. Made with
 * sharp on request and kept in a small in-memory cache (keyed by the job's state, so a new
 * result or preview is never served stale).
 */
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { HttpError } from '../../jobs/http-error';
import { JOB_ID_PATTERN } from '../../jobs/files';
import type { JobManager } from '../job-manager';
import type { JobRecord } from '../../jobs/store';
import { encodeImage } from '../../image';
import { decodeFrames } from '../../video/ffmpeg';

const IMAGES = ['result', 'preview', 'content', 'style'] as const;
type ThumbImage = (typeof IMAGES)[number];
const CACHE_ENTRIES = 400;

export async function jobThumbnailRoutes(app: FastifyInstance, opts: { manager: JobManager }): Promise<void> {
  const { manager } = opts;
  const cache = new Map<string, Promise<Buffer>>();

  const fileOf = (job: JobRecord, image: ThumbImage): string | null => {
    if (image === 'result') return job.result?.poster ?? job.result?.file ?? null;
    if (image === 'preview') return manager.files.exists(job.id, 'preview.jpg') ? 'preview.jpg' : null;
    return job.inputs[image]?.file ?? null;
  };

  app.get<{ Params: { id: string; image: string }; Querystring: { size?: string } }>('/api/jobs/:id/thumbnail/:image', async (req, reply) => {
    const job = JOB_ID_PATTERN.test(req.params.id) ? manager.get(req.params.id) : undefined;
    if (!job) throw new HttpError(404, 'no such job');
    const image = req.params.image as ThumbImage;
    if (!IMAGES.includes(image)) throw new HttpError(404, `no such image (one of ${IMAGES.join(', ')})`);
    const size = req.query.size === undefined ? 320 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 16 || size > 1024) throw new HttpError(400, "'size' must be an integer from 16 to 1024");
    const file = fileOf(job, image);
    if (!file) throw new HttpError(404, `the job has no ${image} image`);
    const version = image === 'preview' ? `${job.checkpointIteration}/${job.progress?.iteration}` : image === 'result' ? job.finishedAt : '';
    const key = `${job.id}/${image}/${size}/${version}`;
    let thumb = cache.get(key);
    if (!thumb) {
      const input = image === 'content' || image === 'style' ? job.inputs[image] : undefined;
      const path = manager.files.file(job.id, file);
      thumb = input?.video ? videoThumbnail(path, input.width, input.height, size) : sharp(path).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 82 }).toBuffer();
      thumb.catch(() => cache.delete(key));
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(key, thumb);
    }
    let bytes: Buffer;
    try {
      bytes = await thumb;
    } catch {
      throw new HttpError(404, 'the image is gone');
    }
    return reply
      .type('image/jpeg')
      .header('Cache-Control', image === 'preview' ? 'no-store' : 'private, max-age=60')
      .send(bytes);
  });
}

/** A video's first frame, its longest side `size` at most (ffmpeg scales; aspect as stored). */
async function videoThumbnail(file: string, width: number, height: number, size: number): Promise<Buffer> {
  const scale = Math.min(1, size / Math.max(width, height));
  const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
  for await (const frame of decodeFrames(file, { width: even(width), height: even(height) })) return encodeImage(frame, 'jpeg', { quality: 82 });
  throw new Error('the video has no frames');
}
