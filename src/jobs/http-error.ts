/**
 * Errors the HTTP API answers with: a status (4xx for anything a client can fix) and a one-line
 * message, sent as JSON `{ "error": message, "statusCode": status }`.
 */
import { NstError } from '../errors';
import { DISK_FULL_MESSAGE, isDiskFull } from './disk-full';

export class HttpError extends Error {
  /** `retryAfterSeconds`: sent as Retry-After (a 503 the client may retry, e.g. the queue is away). */
  constructor(readonly statusCode: number, message: string, readonly retryAfterSeconds?: number) {
    super(oneLine(message));
    this.name = 'HttpError';
  }
}

/** Seconds a client is told to wait before trying again after a passing 503. */
export const RETRY_AFTER_SECONDS = 5;

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message = 'not found') => new HttpError(404, message);

export function oneLine(message: string): string {
  return message.replace(/\s*\r?\n\s*/g, ' ').trim() || 'error';
}

/** The status and message a thrown value is answered with. */
export function toHttpError(err: unknown): { statusCode: number; message: string } {
  if (err instanceof HttpError) return { statusCode: err.statusCode, message: err.message };
  if (err instanceof NstError) return { statusCode: 400, message: oneLine(err.message) };
  if (isDiskFull(err)) return { statusCode: 507, message: DISK_FULL_MESSAGE };
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own errors (body limit, unsupported media type).
    const byCode: Record<string, string> = {
      FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is too large',
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type (send multipart/form-data or application/json)',
    };
    const message = (e.code && byCode[e.code]) || oneLine(String(e.message ?? 'bad request'));
    return { statusCode: status, message };
  }
  return { statusCode: 500, message: 'internal server error' };
}
