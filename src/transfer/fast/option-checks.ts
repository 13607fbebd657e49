/** Checks the feed-forward commands' options share; each failure is a one-line NstError. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { checkDeviceName } from '../../engine/device';
import { positiveInt } from '../validate';

/** Threads and device, as every command takes them. */
export function checkRuntime(o: { threads?: number; device?: string }): void {
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  if (o.device !== undefined) checkDeviceName(o.device);
}

/** The file's folder exists and is writable, and the file is not a folder. */
export function checkWritable(file: string, what: string): void {
  const dir = path.dirname(path.resolve(file));
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new NstError(`cannot write ${what} '${file}': the folder ${dir} does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new NstError(`cannot write ${what} '${file}': permission denied`);
  }
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new NstError(`cannot write ${what} '${file}': it is a folder`);
}
