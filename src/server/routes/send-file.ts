/**
 * Serving a file with HTTP byte ranges (RFC 9110 §14): `<video>` elements ask for ranges to seek,
 * and some players refuse a file served without them. One range per request (what players send);
 * a request without Range gets the whole file, an unsatisfiable one 416.
 */
import * as fs from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../jobs/http-error';

/** The first byte and the last (inclusive) of a single `bytes=` range, null for none, 'invalid' if it cannot be served. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: ignoring Range (the whole file) is allowed and always works.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

export async function sendFileWithRanges(req: FastifyRequest, reply: FastifyReply, file: string, contentType: string, cacheControl: string): Promise<FastifyReply> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new HttpError(404, 'the file is gone');
  }
  reply.type(contentType).header('Accept-Ranges', 'bytes').header('Cache-Control', cacheControl);
  const range = parseRange(req.headers.range, stat.size);
  if (range === 'invalid') {
    reply.header('Content-Range', `bytes */${stat.size}`);
    throw new HttpError(416, `the range ${String(req.headers.range).slice(0, 60)} is outside the file (${stat.size} bytes)`);
  }
  if (!range) return reply.header('Content-Length', stat.size).send(fs.createReadStream(file));
  return reply
    .code(206)
    .header('Content-Range', `bytes ${range.start}-${range.end}/${stat.size}`)
    .header('Content-Length', range.end - range.start + 1)
    .send(fs.createReadStream(file, { start: range.start, end: range.end }));
}
