/**
 * Issue 28: at 2,048 px the pretrained wave network dots the dark flat areas of a photo (a night
 * sky) with isolated white points on a lattice of its transposed convolutions. The default
 * removes them (src/transfer/fast/invented-dots.ts); `--padding exact` keeps the network's output.
 * The dots are counted here by a rule of the test's own (bright blobs in a box-mean
 * neighbourhood), not the module's (median based), so the test does not grade itself.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { configureThread } from '../src/engine';
import { loadImage, RgbImage } from '../src/image';
import { loadStyleModel } from '../src/models/style-model-format';
import { stylizeImage } from '../src/transfer/fast/run';
import { removeInventedDots } from '../src/transfer/fast/invented-dots';
import { nst, useTempDir } from './helpers/cli';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';
import { luma } from './helpers/lattice-energy';

const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'hoovertowernight.jpg');

/**
 * Isolated bright dots on dark flat areas: pixels brighter by 25 levels than every one of the 8
 * pixels 2 px away (so not an edge, which stays bright along its length), where the output's
 * 11×11 box mean is below 100 and the photo's 11×11 box spans under 30 levels (flat in the photo:
 * the wave's foam on the photo's trees is its brushwork); counted as 4-connected blobs.
 */
function countDots(img: RgbImage, photo: RgbImage): number {
  const { width: w, height: h } = img;
  const l = luma(img);
  const p = luma(photo);
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += l[y * w + x];
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
    }
  }
  const r = 5;
  const d = 2;
  const ring = [-d, 0, d].flatMap((dy) => [-d, 0, d].filter((dx) => dx || dy).map((dx) => dy * w + dx));
  const bright = new Uint8Array(w * h);
  for (let y = r; y < h - r; y++) {
    for (let x = r; x < w - r; x++) {
      const i = y * w + x;
      const mean = (sat[(y + r + 1) * (w + 1) + x + r + 1] - sat[(y - r) * (w + 1) + x + r + 1] - sat[(y + r + 1) * (w + 1) + x - r] + sat[(y - r) * (w + 1) + x - r]) / (2 * r + 1) ** 2;
      if (mean >= 100) continue;
      let lo = 255;
      let hi = 0;
      for (let yy = y - r; yy <= y + r; yy++) {
        for (let xx = x - r; xx <= x + r; xx++) {
          lo = Math.min(lo, p[yy * w + xx]);
          hi = Math.max(hi, p[yy * w + xx]);
        }
      }
      if (hi - lo >= 30) continue;
      if (ring.every((o) => l[i] - l[i + o] > 25)) bright[i] = 1;
    }
  }
  let dots = 0;
  const seen = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    if (!bright[i] || seen[i]) continue;
    dots++;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const j = stack.pop()!;
      for (const q of [j - 1, j + 1, j - w, j + w]) {
        if (bright[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
  }
  return dots;
}

describe('fast styles at print size: no invented dots on dark areas', () => {
  const tmp = useTempDir('nst-dots-');
  let photo: RgbImage;
  let exact: RgbImage;
  let byDefault: RgbImage;

  before(async () => {
    for (const padding of ['exact', 'reflect']) {
      const r = nst(['fast', '--style', 'wave', '-c', PHOTO, '-o', path.join(tmp(), `${padding}.png`), '--size', '2048', '--padding', padding]);
      assert.equal(r.status, 0, r.stderr);
    }
    exact = await loadImage(path.join(tmp(), 'exact.png'));
    byDefault = await loadImage(path.join(tmp(), 'reflect.png'));
    photo = await loadImage(PHOTO, { maxSide: 2048 });
    assert.equal(photo.width, exact.width);
  });

  test('wave at 2,048 px: the dots of the original network on dark flat areas are gone by default', () => {
    const before = countDots(exact, photo);
    const after = countDots(byDefault, photo);
    // Measured: 3,252 from the original network (exact), 160 left (4.9 %; ~350 before the lattice
    // notch and the dot rule's photo flatness raised from 8 to 16, 265 with the notch alone).
    assert.ok(before > 500, `the original network paints ${before} dots: the test no longer sees what it guards against`);
    assert.ok(after <= before * 0.08, `${after} dots left of ${before}`);
  });

  test('only the dots change: the rest of the print is the network\u2019s', async () => {
    configureThread({ threads: 2 });
    const model = loadStyleModel(path.join(MODELS_DIR, 'fast-style', 'wave'), 'cpu');
    model.net.padding = 'reflect';
    let raw: RgbImage;
    try {
      raw = stylizeImage(model.net, photo);
    } finally {
      model.net.dispose();
    }
    const a = luma(raw);
    const { image: clean, dotPixels } = await removeInventedDots(raw, photo);
    assert.ok(dotPixels > 5000, `${dotPixels} dot pixels found`);
    const b = luma(clean);
    let changed = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      diff += d;
      if (d > 2) changed++;
    }
    // Measured: 7.7 % of the pixels (the dots and their halos), mean 1.58 levels.
    assert.ok(changed / a.length < 0.12, `${((100 * changed) / a.length).toFixed(1)} % of pixels changed`);
    assert.ok(diff / a.length < 2.5, `mean |difference| ${(diff / a.length).toFixed(2)} levels`);
  });

  test('a light of the photo on a dark flat area is kept; an invented one is removed', async () => {
    const w = 64;
    const n = w * w;
    const dark = (withLight: boolean): RgbImage => {
      const data = new Float32Array(3 * n).fill(0.15);
      if (withLight) for (let c = 0; c < 3; c++) data[c * n + 32 * w + 32] = 1;
      return { width: w, height: w, data };
    };
    const kept = await removeInventedDots(dark(true), dark(true));
    assert.equal(kept.dotPixels, 0, 'the photo has the light too: it is not invented');
    const removed = await removeInventedDots(dark(true), dark(false));
    assert.equal(removed.dotPixels, 1);
    assert.ok(Math.abs(removed.image.data[32 * w + 32] - 0.15) < 0.01, 'the invented dot takes its neighbourhood\u2019s colour');
  });
});
