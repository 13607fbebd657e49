/**
 * The `nst stylize` command end to end: a tiny real run, Ctrl-C keeping the current image, and
 * bad input giving one line on stderr, exit code 2 and no output file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CONTENT, NST, nst, STYLE, useTempDir } from './helpers/cli';
import { REFERENCE_DIR } from './helpers/reference';
import { loadImage, imageStats } from '../src/image';

const dir = useTempDir('nst-cli-');

describe('nst stylize', () => {
  test('a tiny run writes an image of the requested size that moved toward the style', async () => {
    const out = path.join(dir(), 'tiny.png');
    const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '64', '--iterations', '12', '--seed', '3', '--threads', '2', '--save-every', '5']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*tiny\.png \(64x48, 12 iterations, final loss/);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
    assert.ok(fs.existsSync(path.join(dir(), 'tiny_0005.png')) && fs.existsSync(path.join(dir(), 'tiny_0010.png')), 'intermediate frames');
    // The result differs from the content and its colours move toward the style's.
    const [result, content, style] = await Promise.all([out, CONTENT, STYLE].map((f) => loadImage(f, { width: 64, height: 48 })));
    const diff = result.data.reduce((s, v, i) => s + Math.abs(v - content.data[i]), 0) / result.data.length;
    assert.ok(diff > 0.02, `mean |result - content| = ${diff}`);
    const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]));
    const [rs, cs, ss] = [result, content, style].map((im) => imageStats(im).mean);
    assert.ok(dist(rs, ss) < dist(cs, ss) + 1e-6, `mean colour ${rs} should be closer to the style's ${ss} than the content's ${cs}`);
  });

  test('Ctrl-C stops after the current iteration and keeps the current image', async () => {
    const out = path.join(dir(), 'interrupted.png');
    const child = spawn(process.execPath, [NST, 'stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '64', '--iterations', '100000', '--print-every', '1', '--threads', '1']);
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/stylize 2\//.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    assert.equal(code, 130, stderr);
    assert.match(stderr, /stopped at iteration \d+/);
    const meta = await sharp(out).metadata();
    assert.equal(meta.width, 64);
  });

  const bad: [string, (d: string) => string[], RegExp][] = [
    ['missing content file', (d) => ['-c', path.join(d, 'nope.jpg'), '-s', STYLE, '-o', path.join(d, 'o.png')], /nst: error: photo '.*nope\.jpg' does not exist/],
    ['content is not an image', (d) => {
      fs.writeFileSync(path.join(d, 'text.jpg'), 'hello');
      return ['-c', path.join(d, 'text.jpg'), '-s', STYLE, '-o', path.join(d, 'o.png')];
    }, /text\.jpg/],
    ['truncated image', (d) => {
      const buf = fs.readFileSync(path.join(REFERENCE_DIR, 'content.png'));
      fs.writeFileSync(path.join(d, 'cut.png'), buf.subarray(0, buf.length >> 1));
      return ['-c', path.join(d, 'cut.png'), '-s', STYLE, '-o', path.join(d, 'o.png')];
    }, /cut\.png/],
    ['empty image file', (d) => {
      fs.writeFileSync(path.join(d, 'empty.png'), '');
      return ['-c', path.join(d, 'empty.png'), '-s', STYLE, '-o', path.join(d, 'o.png')];
    }, /empty\.png/],
    ['image beyond --max-pixels', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--max-pixels', '1000'], /--max-pixels/],
    ['unknown layer', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--style-layers', 'relu1_1,relu9_9'], /unknown style layer 'relu9_9'/],
    ['negative weight', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--style-weight', '-1'], /style-weight/],
    ['zero iterations', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--iterations', '0'], /iterations/],
    ['zero L-BFGS history', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--lbfgs-history', '0'], /lbfgs-history must be a positive integer/],
    ['non-numeric size', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--size', 'big'], /--size must be an integer/],
    ['unwritable output directory', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'no-such-dir', 'o.png')], /cannot write|does not exist|no-such-dir/],
    ['unknown output format', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.xyz')], /xyz|format|extension/],
    ['unknown init', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--init', 'zebra'], /init image 'zebra' does not exist/],
    ['style masks that do not match the styles', (d) => ['-c', CONTENT, '-s', STYLE, '--style-mask', CONTENT, '--style-mask', STYLE, '-o', path.join(d, 'o.png')], /2 style mask\(s\) for 1 style image/],
    ['blend weights that do not match the styles', (d) => ['-c', CONTENT, '-s', STYLE, '-s', CONTENT, '--style-blend-weights', '1,2,3', '-o', path.join(d, 'o.png')], /3 blend weight\(s\) for 2 style image/],
    ['scales that are not increasing', (d) => ['-c', CONTENT, '-s', STYLE, '--scales', '64,32', '-o', path.join(d, 'o.png')], /--scales must be increasing/],
    ['an unknown preset', (d) => ['-c', CONTENT, '-s', STYLE, '--preset', 'cubism', '-o', path.join(d, 'o.png')], /unknown preset 'cubism'/],
    ['cuda without CUDA', (d) => ['-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--device', 'cuda', '--iterations', '1', '--size', '32'], /cuda|CUDA/],
  ];
  for (const [name, args, message] of bad) {
    test(`bad input: ${name} → one line, exit 2, no output`, () => {
      const d = fs.mkdtempSync(path.join(dir(), 'bad-'));
      const r = nst(['stylize', '--size', '32', '--iterations', '2', ...args(d)]);
      assert.equal(r.status, 2, `status ${r.status}, stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
      assert.match(lines[0], /^nst: error: /);
      assert.match(lines[0], message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const left = fs.readdirSync(d).filter((f) => f.startsWith('o.') || f.includes('.tmp'));
      assert.deepEqual(left, [], 'no output or temp file written');
    });
  }

  test('--help exits 0 and lists the options', () => {
    const r = nst(['stylize', '--help']);
    assert.equal(r.status, 0);
    for (const opt of ['--content-weight', '--style-layers', '--init', '--optimizer', '--save-every', '--device', '--threads']) assert.ok(r.stdout.includes(opt), opt);
  });
});
