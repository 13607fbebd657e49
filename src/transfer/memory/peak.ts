/**
 * The process's resident memory now and at its peak. Linux's /proc/self/status gives both for
 * the whole process (every thread); elsewhere getrusage's peak and Node's RSS stand in.
 */
import * as fs from 'node:fs';

function statusField(field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resident bytes now. */
export function residentBytes(): number {
  return statusField('VmRSS') ?? process.memoryUsage().rss;
}

/** The most resident bytes the process has had so far. */
export function peakResidentBytes(): number {
  return statusField('VmHWM') ?? process.resourceUsage().maxRSS * 1024;
}
