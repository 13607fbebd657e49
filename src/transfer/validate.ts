/** Option checks shared by the transfer methods: each failure is a one-line NstError. */
import * as fs from 'node:fs';
import { NstError } from '../errors';

/** Drops keys whose value is undefined, so defaults can be spread underneath. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The path names an existing regular file. */
export function requireFile(file: string, what: string): void {
  if (!file) throw new NstError(`a ${what} is required`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new NstError(`${what} '${file}' does not exist`);
  }
  if (!stat.isFile()) throw new NstError(`${what} '${file}' is not a file`);
}

export function oneOf(v: string, choices: readonly string[], name: string): void {
  if (!choices.includes(v)) throw new NstError(`unknown ${name} '${v}' (expected ${choices.join(', ')})`);
}
export function positiveInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new NstError(`--${name} must be a positive integer (got ${v})`);
}
export function nonNegativeInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0) throw new NstError(`--${name} must be a non-negative integer (got ${v})`);
}
export function nonNegative(v: number, name: string): void {
  if (!Number.isFinite(v) || v < 0) throw new NstError(`--${name} must be a non-negative number (got ${v})`);
}
