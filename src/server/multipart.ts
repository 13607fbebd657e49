/**
 * Reading a multipart/form-data request (busboy): text fields into memory, files streamed to
 * temporary files on disk, so memory stays flat whatever the upload's size. Reading stops at the
 * first limit or error: the rest of the body is never read (the caller answers with
 * `Connection: close`), so an oversize or endless upload costs at most its limit, and a slow one
 * (under a minimum rate, or past a deadline) at most that time.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Busboy from '@fastify/busboy';
import { DISK_FULL_MESSAGE, isDiskFull } from '../jobs/disk-full';
import { badRequest, HttpError, oneLine } from '../jobs/http-error';

export interface MultipartLimits {
  /** Largest file, bytes. */
  fileBytes: number;
  files: number;
  fields: number;
  /** Largest text field, bytes. */
  fieldBytes: number;
}

export interface UploadedFile {
  /** The name the client gave (unsanitised). */
  filename: string;
  /** The temporary file holding the bytes; the caller moves or removes it. */
  path: string;
  bytes: number;
}

export interface MultipartBody {
  /** Text fields (an object without prototype: any name is a plain key). */
  fields: Record<string, string>;
  files: Record<string, UploadedFile>;
}

/** How slowly a body may come: at least `minBytesPerSecond` over any `windowMs` (a sliding window), all of it within `timeoutMs`. */
export interface UploadPace {
  minBytesPerSecond: number;
  windowMs: number;
  timeoutMs: number;
}

export interface MultipartOptions {
  /** Folder of the temporary files (on the same file system as their final place, for a rename). */
  tempDir: string;
  limits: MultipartLimits;
  pace?: UploadPace;
  /** Says why a file field is refused (null: accepted); called before any byte of it is stored. */
  refuseFile(field: string): string | null;
}

const MiB = 1024 * 1024;

/**
 * Reads the request's multipart body. Throws HttpError 400 (malformed, refused field), 408 (too
 * slow), 413 (a limit), 507 (disk full); on any failure the temporary files are already removed.
 */
export function readMultipart(req: IncomingMessage, options: MultipartOptions): Promise<MultipartBody> {
  const { limits } = options;
  // Everything a valid request can hold, with room for part headers and fields.
  const maxBodyBytes = limits.files * limits.fileBytes + limits.fields * (limits.fieldBytes + 200) + 64 * 1024;
  const fields: Record<string, string> = Object.create(null);
  const files: Record<string, UploadedFile> = Object.create(null);
  const temps: string[] = [];
  const seenFiles = new Set<string>();
  /** File parts being written, each as [busboy's stream, the temporary file's stream]. */
  const open = new Set<[{ destroy(): void }, fs.WriteStream]>();
  const writes: Promise<void>[] = [];
  const outs: fs.WriteStream[] = [];

  let stopPace = () => undefined as void;
  return new Promise<MultipartBody>((resolve, reject) => {
    let failed = false;
    let received = 0;
    let busboy: ReturnType<typeof Busboy>;

    const removeTemps = () => Promise.all(temps.map((t) => fs.promises.rm(t, { force: true }).catch(() => undefined)));
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      stopPace();
      // Stop reading the body here: nothing more of it is parsed or stored.
      req.unpipe(busboy);
      req.pause();
      req.off('data', count);
      for (const [part, file] of open) {
        part.destroy();
        file.destroy();
      }
      // Answer once the temporary files are gone (or after a second, whichever comes first). A
      // file is removed only after its stream has closed: a destroyed stream still finishes a
      // pending open, which would create the file again after an earlier removal.
      const settled = Promise.allSettled(writes).then(() => Promise.all(outs.map(closed))).then(removeTemps);
      void Promise.race([settled, new Promise((r) => setTimeout(r, 1000).unref())]).then(() => reject(err));
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBodyBytes) fail(new HttpError(413, `the request body is larger than the server accepts (${limitText(maxBodyBytes)} at most)`));
    };

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      reject(new HttpError(413, `the request body is larger than the server accepts (${limitText(maxBodyBytes)} at most)`));
      return;
    }
    try {
      busboy = Busboy({
        headers: req.headers as { 'content-type': string },
        limits: { fileSize: limits.fileBytes, files: limits.files, fields: limits.fields, parts: limits.files + limits.fields, fieldSize: limits.fieldBytes, fieldNameSize: 100, headerPairs: 50 },
      });
    } catch (err) {
      reject(badRequest(`malformed multipart request: ${oneLine(String((err as Error)?.message ?? err))}`));
      return;
    }

    busboy.on('file', (field, stream, filename) => {
      if (failed) return void stream.resume();
      const refusal = seenFiles.has(field) ? `more than one '${field}' file` : options.refuseFile(field);
      seenFiles.add(field);
      if (refusal) {
        stream.resume();
        return fail(badRequest(refusal));
      }
      const tmp = path.join(options.tempDir, `${randomBytes(8).toString('hex')}.upload`);
      temps.push(tmp);
      const out = fs.createWriteStream(tmp, { flags: 'wx' });
      outs.push(out);
      const entry: [typeof stream, fs.WriteStream] = [stream, out];
      open.add(entry);
      stream.on('limit', () => fail(new HttpError(413, `the ${field === 'content' ? 'photo or video' : field === 'style' ? 'painting' : `${field} file`} is larger than the server accepts (${limitText(limits.fileBytes)} at most)`)));
      writes.push(
        pipeline(stream, out).then(
          () => {
            open.delete(entry);
            if (!stream.truncated) files[field] = { filename, path: tmp, bytes: out.bytesWritten };
          },
          (err) => {
            open.delete(entry);
            fail(isDiskFull(err) ? new HttpError(507, DISK_FULL_MESSAGE) : err);
          },
        ),
      );
    });
    busboy.on('field', (name, value, nameTruncated, valueTruncated) => {
      if (failed) return;
      if (nameTruncated || valueTruncated) return fail(badRequest(`field '${name.slice(0, 40)}' is too long`));
      if (Object.prototype.hasOwnProperty.call(fields, name)) return fail(badRequest(`field '${name}' given more than once`));
      fields[name] = value;
    });
    busboy.on('partsLimit', () => fail(new HttpError(413, 'too many parts in the multipart request')));
    busboy.on('filesLimit', () => fail(new HttpError(413, 'too many files in the multipart request (at most a content and a style image)')));
    busboy.on('fieldsLimit', () => fail(new HttpError(413, 'too many fields in the multipart request')));
    busboy.on('error', (err) => fail(badRequest(`malformed multipart request: ${oneLine(String((err as Error)?.message ?? err))}`)));
    busboy.on('finish', () => {
      stopPace();
      void Promise.allSettled(writes).then(() => {
        if (!failed) resolve({ fields, files });
      });
    });
    req.on('aborted', () => fail(badRequest('the upload was interrupted')));
    req.on('data', count);
    if (options.pace) stopPace = watchPace(options.pace, () => received, fail);
    req.pipe(busboy);
  });
}

/** Resolves when the file stream has closed (its descriptor, if it was ever opened, is released). */
function closed(stream: fs.WriteStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}

/**
 * Fails the upload (408) when it comes slower than the pace allows over any window (a sliding one:
 * checked every second, or every fifth of a shorter window); returns the stop function.
 */
function watchPace(pace: UploadPace, received: () => number, fail: (err: Error) => void): () => void {
  const stepMs = Math.min(1000, pace.windowMs / 5);
  const steps = Math.max(1, Math.round(pace.windowMs / stepMs));
  const minBytes = (pace.minBytesPerSecond * pace.windowMs) / 1000;
  // What had arrived at each of the last `steps` checks, and now: the first is one window ago.
  const counts = [received()];
  const check = setInterval(() => {
    counts.push(received());
    if (counts.length <= steps) return;
    if (counts.length > steps + 1) counts.shift();
    if (counts[steps] - counts[0] < minBytes) {
      fail(new HttpError(408, `the upload is too slow (under ${rateText(pace.minBytesPerSecond)} for ${seconds(pace.windowMs)}); the server stopped receiving it`));
    }
  }, stepMs);
  const deadline = setTimeout(() => fail(new HttpError(408, `the upload took longer than ${seconds(pace.timeoutMs)}; the server stopped receiving it`)), pace.timeoutMs);
  return () => {
    clearInterval(check);
    clearTimeout(deadline);
  };
}

function rateText(bytesPerSecond: number): string {
  return bytesPerSecond >= 1024 ? `${Math.round((bytesPerSecond / 1024) * 10) / 10} KiB/s` : `${bytesPerSecond} bytes/s`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function limitText(bytes: number): string {
  return bytes >= MiB ? `${Math.round((bytes / MiB) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
