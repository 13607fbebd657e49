/**
 * Typed access to the fields of a job request. Multipart fields arrive as strings and JSON fields
 * as JSON values; both go through the same checks, and each problem is a 400 naming the field.
 * Fields nobody read are refused (`rejectUnread`), so a typo never passes silently.
 */
import { badRequest } from './http-error';

export type RawValue = string | number | boolean;

export class FieldReader {
  private readonly read = new Set<string>();

  constructor(private readonly fields: Record<string, RawValue>) {}

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.fields, name);
  }

  raw(name: string): RawValue | undefined {
    this.read.add(name);
    return this.has(name) ? this.fields[name] : undefined;
  }

  string(name: string, options: { max?: number; pattern?: RegExp } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw badRequest(`field '${name}' must be a string`);
    if (v.length === 0) throw badRequest(`field '${name}' must not be empty`);
    if (v.length > (options.max ?? 200)) throw badRequest(`field '${name}' is too long`);
    if (options.pattern && !options.pattern.test(v)) throw badRequest(`field '${name}' has an invalid value`);
    return v;
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !choices.includes(v as T)) {
      throw badRequest(`field '${name}' must be one of ${choices.join(', ')} (got ${JSON.stringify(v)})`);
    }
    return v as T;
  }

  number(name: string, range: { min?: number; max?: number; exclusiveMin?: boolean } = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw badRequest(`field '${name}' must be a number (got ${JSON.stringify(v)})`);
    const { min, max } = range;
    if (min !== undefined && (range.exclusiveMin ? n <= min : n < min)) {
      throw badRequest(`field '${name}' must be ${range.exclusiveMin ? 'greater than' : 'at least'} ${min} (got ${n})`);
    }
    if (max !== undefined && n > max) throw badRequest(`field '${name}' must be at most ${max} (got ${n})`);
    return n;
  }

  integer(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n) && !Number.isSafeInteger(n)) {
      // Beyond 2^53 a number is no longer exact (e.g. ?offset=9223372036854775807).
      const bound = n > 0 ? range.max : range.min;
      if (bound !== undefined) throw badRequest(`field '${name}' must be ${n > 0 ? 'at most' : 'at least'} ${bound} (got ${JSON.stringify(v)})`);
      throw badRequest(`field '${name}' must be an integer of at most 15 digits (got ${JSON.stringify(v)})`);
    }
    if (!Number.isSafeInteger(n)) throw badRequest(`field '${name}' must be an integer (got ${JSON.stringify(v)})`);
    return this.number(name, range);
  }

  boolean(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (v === true || v === 'true' || v === '1' || v === 'on') return true;
    if (v === false || v === 'false' || v === '0' || v === 'off') return false;
    throw badRequest(`field '${name}' must be true or false (got ${JSON.stringify(v)})`);
  }

  /** Refuses the first field that no one read. */
  rejectUnread(context: string): void {
    for (const name of Object.keys(this.fields)) {
      if (!this.read.has(name)) throw badRequest(`unknown field '${name}'${context}`);
    }
  }
}
