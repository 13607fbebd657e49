/**
 * Messages for API clients without the server's own paths: a job's error says what happened to
 * which of its files ("cannot write 'result.mp4': it is a directory"), not where the server
 * keeps them. Logs keep the full message.
 */
import * as path from 'node:path';

/** `message` with paths inside `dataDir` made relative: to their job's folder, or to the data directory. */
export function hideServerPaths(message: string, dataDir: string): string {
  const root = escapeRegExp(path.resolve(dataDir));
  const jobFile = new RegExp(`${root}/jobs/[0-9a-f]{16}(?:/([^\\s'"]*))?`, 'g');
  // Only the data directory and what is inside it: not a sibling that merely starts with its name (/var/nst-old).
  const dataFile = new RegExp(`${root}(?=/|$|[\\s'"])(?:/([^\\s'"]*))?`, 'g');
  return message.replace(jobFile, (_, name: string | undefined) => name || "the job's folder").replace(dataFile, (_, name: string | undefined) => name || 'the data directory');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
