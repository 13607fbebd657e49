/** Parsers for command-line values: each turns bad input into a one-line NstError. */
import { NstError } from '../errors';
import { Option } from 'commander';
import { checkDeviceName, DeviceName } from '../engine/device';
import { PRECISION_OPTIONS, PrecisionOption } from '../engine/runtime';

export function parseNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new NstError(`--${name} must be a number (got '${value}')`);
    return n;
  };
}

export function parseInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new NstError(`--${name} must be an integer (got '${value}')`);
    return n;
  };
}

export function parseList(name: string) {
  return (value: string): string[] => {
    const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (list.length === 0) throw new NstError(`--${name} needs a comma-separated list (got '${value}')`);
    return list;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new NstError(`--${name} must be one of ${choices.join(', ')} (got '${value}')`);
    return value as T;
  };
}

/** --device: cpu, cuda or cuda:N. */
export function parseDevice(value: string): DeviceName {
  return checkDeviceName(value.trim(), '--device');
}

export function parseNumberList(name: string) {
  return (value: string): number[] => parseList(name)(value).map((v) => parseNumber(name)(v));
}

export function parseIntegerList(name: string) {
  return (value: string): number[] => parseList(name)(value).map((v) => parseInteger(name)(v));
}

/** Accumulates a repeatable option into an array. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The --precision option of the computing commands ("<what>: auto picks bf16 where …"). */
export function precisionOption(what: string, fallback: PrecisionOption = 'auto'): Option {
  return new Option('--precision <p>', `${what}: auto picks bf16 where the CPU has bf16 instructions`).choices(PRECISION_OPTIONS).default(fallback);
}
