/**
 * Faults of the command line found in review, each end to end through bin/nst.js: a batch with
 * unreadable photos exits non-zero, an impossible --size is refused before decoding.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { MODELS_DIR, REFERENCE_DIR } from './helpers/reference';

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
const CONTENT = path.join(REFERENCE_DIR, 'content.png');
const STYLE = path.join(REFERENCE_DIR, 'style.png');
let dir: string;

function nst(args: string[]) {
  return spawnSync(process.execPath, [NST, ...args], { encoding: 'utf8', env: { ...process.env, NST_DEBUG: '' } });
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-cli-faults-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('nst fast on a folder', () => {
  test('an unreadable photo: the good ones are written, the last line says how many failed, exit 2', () => {
    const photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    fs.copyFileSync(CONTENT, path.join(photos, 'a.png'));
    fs.copyFileSync(STYLE, path.join(photos, 'b.png'));
    fs.writeFileSync(path.join(photos, 'c.jpg'), 'not a photo');
    const out = path.join(dir, 'painted');
    const r = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', photos, '-o', out, '--size', '32', '--threads', '2']);
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['a.png', 'b.png']);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[lines.length - 1], /^nst: error: 1 of 3 photos could not be stylised \(see the warnings above\); the other 2 were written$/);
    assert.ok(lines.some((l) => /skipping .*c\.jpg/.test(l)), r.stderr);
  });
});
