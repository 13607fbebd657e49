/** The command line as the tests run it: bin/nst.js in a child process, and a temporary folder per test file. */
import { after, before } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../src/models/model-dir';
import { REFERENCE_DIR } from './reference';

export const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
export const CONTENT = path.join(REFERENCE_DIR, 'content.png');
export const STYLE = path.join(REFERENCE_DIR, 'style.png');

/** Runs `nst args` to its end (NST_DEBUG off: errors in one line). */
export function nst(args: string[]) {
  return spawnSync(process.execPath, [NST, ...args], { encoding: 'utf8', env: { ...process.env, NST_DEBUG: '' } });
}

/** A temporary folder made before the file's tests and removed after them; call the result for its path. */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('the temporary folder is made before the tests run');
    return dir;
  };
}
