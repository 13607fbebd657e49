/**
 * Downloading model weights: `nst models fetch vgg19`.
 *
 * download() fetches one file over HTTP(S) into `<file>.part` beside its destination, resuming a
 * partial file with a Range request (after a dropped connection in the same run, up to `retries`
 * times, and across runs: an interrupted download leaves its .part for the next run), checks the
 * result against the pinned size and digests, and only then renames it into place. A file that
 * fails the check is deleted, so nothing wrong is ever installed.
 *
 * fetchVgg19() downloads Keras's VGG19 "notop" weights (see KERAS_VGG19_NOTOP: its official URL,
 * size and MD5, pinned by keras.applications) from the official location, a mirror
 * (NST_MODEL_MIRROR, a base URL) or --url, and converts them into `<model-dir>/vgg19/`.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { NstError } from '../errors';
import { importKerasH5, KERAS_VGG19_NOTOP } from './import-keras-h5';
import { installModelDir } from './model-dir';
import { checkCanInstall, digestFile, ensureWritableDir, FileDigest, installedModelPath, InstallResult, oneLine, writeError } from './model-registry';

export interface ExpectedDigest {
  bytes?: number;
  sha256?: string;
  md5?: string;
}

export interface DownloadOptions {
  url: string;
  /** Destination; the partial download is `<file>.part`. */
  file: string;
  expected?: ExpectedDigest;
  /** Resume attempts after a dropped connection within this call (default 3). */
  retries?: number;
  /** Idle time after which a stalled connection counts as dropped (default 30 s). */
  timeoutMs?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  onLog?: (line: string) => void;
}

export interface DownloadResult extends FileDigest {
  file: string;
  url: string;
  /** Bytes that were already there from an earlier, interrupted download (0: a fresh download). */
  resumedFrom: number;
  /** Which pinned digests were checked, in words. */
  checked: string;
}

const MAX_REDIRECTS = 5;

class DroppedConnection extends Error {}

/** GET with redirects; resolves with the final response (any status). */
function get(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new NstError(`not a valid URL: ${url}`));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!client) {
      reject(new NstError(`unsupported URL scheme ${parsed.protocol} in ${url} (use http or https; for a local file use 'nst models import')`));
      return;
    }
    const req = client.get(parsed, { headers: { 'user-agent': 'nst-models-fetch', ...headers }, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new NstError(`too many redirects from ${url}`));
          return;
        }
        get(new URL(res.headers.location, parsed).toString(), headers, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      res.setTimeout(timeoutMs, () => res.destroy(new DroppedConnection('no data for a while')));
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new DroppedConnection('the server did not answer')));
    req.on('error', reject);
  });
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function unlinkQuiet(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Which of `expected` `digest` fails, as a message, or null when it passes. */
function mismatch(digest: FileDigest, expected: ExpectedDigest): string | null {
  if (expected.bytes !== undefined && digest.bytes !== expected.bytes) return `it has ${digest.bytes} bytes, the pinned file ${expected.bytes}`;
  if (expected.sha256 && digest.sha256 !== expected.sha256.toLowerCase()) return `its SHA-256 is ${digest.sha256}, the pinned one ${expected.sha256.toLowerCase()}`;
  if (expected.md5 && digest.md5 !== expected.md5.toLowerCase()) return `its MD5 is ${digest.md5}, the pinned one ${expected.md5.toLowerCase()}`;
  return null;
}

function describeChecked(expected: ExpectedDigest): string {
  const parts = [expected.bytes !== undefined && 'size', expected.sha256 && 'SHA-256', expected.md5 && 'MD5'].filter(Boolean);
  return parts.length ? parts.join(' + ') : 'nothing (no pinned digest)';
}

/** Downloads `url` to `file` (see the file comment). Errors are one-line NstErrors. */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { url, file } = options;
  const expected = options.expected ?? {};
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const part = `${file}.part`;
  ensureWritableDir(path.dirname(file));
  let resumedFrom = -1;
  let drops = 0;
  let restarts = 0;
  for (;;) {
    let start = Math.max(0, sizeOf(part));
    if (expected.bytes !== undefined && start > expected.bytes) {
      unlinkQuiet(part);
      start = 0;
    }
    if (resumedFrom < 0) resumedFrom = start;
    if (expected.bytes !== undefined && start === expected.bytes && start > 0) break; // complete: verify below
    let res: http.IncomingMessage;
    try {
      res = await get(url, start > 0 ? { range: `bytes=${start}-` } : {}, timeoutMs);
    } catch (err) {
      if (err instanceof NstError) throw err;
      if (err instanceof DroppedConnection && drops < retries) {
        drops++;
        options.onLog?.(`no answer from ${url}; retrying (${drops}/${retries})`);
        continue;
      }
      throw new NstError(`cannot download ${url}: ${oneLine(err)}`);
    }
    const status = res.statusCode ?? 0;
    if (status === 416 && start > 0 && String(res.headers['content-range'] ?? '') === `bytes */${start}`) {
      res.resume();
      break; // the partial file is already complete: verify below
    }
    if (status === 416 && start > 0 && restarts < 2) {
      // The partial file is not a prefix of what the server has: start over.
      res.resume();
      unlinkQuiet(part);
      restarts++;
      continue;
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      if (status >= 500 && drops < retries) {
        drops++;
        options.onLog?.(`HTTP ${status} from ${url}; retrying (${drops}/${retries})`);
        await new Promise((r) => setTimeout(r, 500 * drops));
        continue;
      }
      throw new NstError(`cannot download ${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    }
    let total: number | undefined;
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== start) {
        res.destroy();
        unlinkQuiet(part);
        if (restarts++ >= 2) throw new NstError(`cannot download ${url}: the server answers range requests inconsistently`);
        continue;
      }
      total = m[3] === '*' ? undefined : Number(m[3]);
    } else {
      if (start > 0) options.onLog?.('the server cannot resume; downloading from the start');
      start = 0;
      const length = res.headers['content-length'];
      total = length !== undefined ? Number(length) : undefined;
    }
    if (expected.bytes !== undefined && total !== undefined && total !== expected.bytes) {
      res.destroy();
      if (status === 206) unlinkQuiet(part);
      throw new NstError(`${url} serves ${total} bytes, the pinned file has ${expected.bytes} (wrong or truncated file on the server); nothing was installed`);
    }
    let fd: number;
    try {
      fd = fs.openSync(part, start === 0 ? 'w' : 'a');
    } catch (err) {
      res.destroy();
      throw writeError(err, path.dirname(file));
    }
    let received = start;
    options.onProgress?.(received, total);
    try {
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          fs.writeSync(fd, chunk);
          received += chunk.length;
          options.onProgress?.(received, total);
        }
        if (total !== undefined && received < total) throw new DroppedConnection('the connection closed early');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code && !(err instanceof DroppedConnection) && (err as NodeJS.ErrnoException).syscall === 'write') {
        throw writeError(err, path.dirname(file));
      }
      const reason = oneLine(err);
      if (drops < retries) {
        drops++;
        options.onLog?.(`connection dropped at ${received} of ${total ?? '?'} bytes (${reason}); resuming (${drops}/${retries})`);
        continue;
      }
      throw new NstError(
        `the download of ${url} was interrupted at ${received} of ${total ?? '?'} bytes (${reason}); run the command again to resume`,
      );
    }
    break;
  }
  const digest = digestFile(part);
  const bad = mismatch(digest, expected);
  if (bad) {
    unlinkQuiet(part);
    throw new NstError(`the file downloaded from ${url} is not the expected one: ${bad} (damaged download or wrong file); nothing was installed`);
  }
  try {
    fs.renameSync(part, file);
  } catch (err) {
    throw writeError(err, path.dirname(file));
  }
  return { ...digest, file, url, resumedFrom, checked: describeChecked(expected) };
}

/** The URL of the Keras VGG19 file: --url, else $NST_MODEL_MIRROR (a base URL, or the file's URL), else the official one. */
export function vgg19Url(explicit?: string): string {
  if (explicit) return explicit;
  const mirror = process.env.NST_MODEL_MIRROR;
  if (mirror) return /\.h5$/i.test(mirror) ? mirror : `${mirror.replace(/\/+$/, '')}/${KERAS_VGG19_NOTOP.file}`;
  return KERAS_VGG19_NOTOP.url;
}

export interface FetchVgg19Options {
  /** Model directory to install into (default: $NST_MODEL_DIR, else the user's model directory). */
  modelDir?: string;
  url?: string;
  /** Expect this SHA-256 instead of the built-in pins (size + Keras's MD5). */
  sha256?: string;
  /** Fetch and replace even if a VGG19 is installed. */
  force?: boolean;
  /** Keep the downloaded .h5 beside the model. */
  keepDownload?: boolean;
  retries?: number;
  timeoutMs?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  onLog?: (line: string) => void;
}

export type FetchVgg19Result =
  | { alreadyInstalled: true; dir: string }
  | { alreadyInstalled: false; installed: InstallResult; download: DownloadResult; kept?: string };

/** Downloads Keras's VGG19 notop weights and installs them as `<modelDir>/vgg19/`. */
export async function fetchVgg19(options: FetchVgg19Options = {}): Promise<FetchVgg19Result> {
  const modelDir = installModelDir(options.modelDir);
  const existing = installedModelPath(modelDir);
  if (existing.installed && !options.force) return { alreadyInstalled: true, dir: existing.dir };
  if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) {
    throw new NstError(`--sha256 must be 64 hexadecimal digits, got '${options.sha256}'`);
  }
  checkCanInstall(modelDir, { force: options.force });
  const url = vgg19Url(options.url);
  const expected: ExpectedDigest = options.sha256
    ? { sha256: options.sha256.toLowerCase() }
    : { bytes: KERAS_VGG19_NOTOP.bytes, md5: KERAS_VGG19_NOTOP.md5, ...(KERAS_VGG19_NOTOP.sha256 ? { sha256: KERAS_VGG19_NOTOP.sha256 } : {}) };
  const file = path.join(modelDir, KERAS_VGG19_NOTOP.file);
  let result: DownloadResult;
  if (sizeOf(file) >= 0 && !mismatch(digestFile(file), expected)) {
    // Kept from an earlier fetch (--keep-download) and still good.
    result = { ...digestFile(file), file, url, resumedFrom: sizeOf(file), checked: describeChecked(expected) };
  } else {
    unlinkQuiet(file);
    result = await download({ url, file, expected, retries: options.retries, timeoutMs: options.timeoutMs, onProgress: options.onProgress, onLog: options.onLog });
  }
  try {
    const installed = await importKerasH5(file, {
      modelDir,
      force: options.force,
      digest: result,
      source: { url, pinned: options.sha256 ? 'SHA-256 (--sha256)' : `${result.checked} (Keras's pin)` },
    });
    return { alreadyInstalled: false, installed, download: result, ...(options.keepDownload ? { kept: file } : {}) };
  } finally {
    if (!options.keepDownload) unlinkQuiet(file);
  }
}
