/**
 * Faults of the command line found in review, each end to end through bin/nst.js: a batch with
 * unreadable photos exits non-zero, an impossible --size is refused before decoding or compute,
 * an SVG is refused as the server refuses it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { HttpError } from '../src/server/http-error';
import { checkImage } from '../src/server/uploads';
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

describe('an impossible --size', () => {
  const refusal = (option: string, size: number, w: number, h: number, limit: number, largest: number) =>
    new RegExp(`^nst: error: ${option} ${size} makes '.*content\\.png' ${w}x${h} \\(${w * h} pixels\\), over the limit of ${limit} pixels \\(--max-pixels\\); the largest ${option} that fits it is ${largest}\n$`);

  test('nst stylize --size 100000 refuses the size (not the photo) in one line, exit 2, nothing written', () => {
    const out = path.join(dir, 'huge.png');
    const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '100000', '--iterations', '1', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    // content.png is 128x96: 8164x6123 fits in 50,000,000 pixels, 8165x6124 does not.
    assert.match(r.stderr, refusal('--size', 100000, 100000, 75000, 50000000, 8164));
    assert.ok(!fs.existsSync(out));
  });

  test('nst stylize --quality standard: the full-size stage is checked before the coarse stages run', () => {
    // Stages 128 and 256 px: 128x96 fits in 20,000 pixels, 256x192 does not (163x122 does).
    const out = path.join(dir, 'staged.png');
    const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '256', '--quality', 'standard', '--iterations', '1', '--max-pixels', '20000', '--threads', '2', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, refusal('--size', 256, 256, 192, 20000, 163));
    assert.doesNotMatch(r.stderr, /stylize \d+\//, 'no iteration ran');
    assert.ok(!fs.existsSync(out));
  });

  test('nst fast --size 100000: the same one line, exit 2, nothing written', () => {
    const out = path.join(dir, 'huge-fast.png');
    const r = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', CONTENT, '-o', out, '--size', '100000']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, refusal('--size', 100000, 100000, 75000, 50000000, 8164));
    assert.ok(!fs.existsSync(out));
  });
});

describe('an SVG', () => {
  test('the CLI refuses it as the server does: one line naming the same accepted formats', async () => {
    const svg = path.join(dir, 'drawing.svg');
    fs.writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="red"/></svg>');
    const out = path.join(dir, 'from-svg.png');
    const r = nst(['stylize', '-c', svg, '-s', STYLE, '-o', out, '--size', '32', '--iterations', '1', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^nst: error: cannot read image '.*drawing\.svg': not an image in a supported format \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)\n$/);
    assert.ok(!fs.existsSync(out));
    const f = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', svg, '-o', out]);
    assert.equal(f.status, 2, f.stderr);
    assert.match(f.stderr, /not an image in a supported format \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)\n$/);
    await assert.rejects(checkImage(svg, 'content', 50_000_000), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.statusCode, 415);
      assert.match(err.message, /^the content file is not a supported image \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)$/);
      return true;
    });
  });
});
