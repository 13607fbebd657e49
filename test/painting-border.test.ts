/**
 * Paintings photographed on their sheet (issue 28): the paper band around them, with its folds,
 * is found and cropped; paintings without one, a flat sky at their edge or a dark vignette are
 * left whole.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { RgbImage } from '../src/image';
import { cropBorder, detectPaintingBorder } from '../src/image/painting-border';
import { loadPainting } from '../src/image/load-painting';
import { currentRecipeSettings, isCurrentRecipe } from '../src/transfer/arbitrary/cache-entry';
import type { StyleFile } from '../src/transfer/arbitrary/style-file';

/** A deterministic pseudo-random generator in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A painting: colourful strokes (sinusoids) with brush texture (noise), values in [0,1]. */
function painting(width: number, height: number, seed = 1): RgbImage {
  const rnd = random(seed);
  const waves = Array.from({ length: 12 }, () => ({ fx: (rnd() - 0.5) * 0.3, fy: (rnd() - 0.5) * 0.3, phase: rnd() * 6.3, amp: [rnd(), rnd(), rnd()].map((v) => (v - 0.5) * 0.25) }));
  const data = new Float32Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0.45 + (rnd() - 0.5) * 0.12;
        for (const q of waves) v += q.amp[c] * Math.sin(q.fx * x + q.fy * y + q.phase);
        data[c * width * height + y * width + x] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { width, height, data };
}

/** The painting on a sheet of off-white paper (a lighting gradient, grain), `margin` px of paper per side. */
function onPaper(p: RgbImage, margin: { x: number; y: number }, seed = 2): RgbImage {
  const rnd = random(seed);
  const width = p.width + 2 * margin.x;
  const height = p.height + 2 * margin.y;
  const data = new Float32Array(3 * width * height);
  const paper = [0.96, 0.95, 0.92];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= margin.x && x < margin.x + p.width && y >= margin.y && y < margin.y + p.height;
      for (let c = 0; c < 3; c++) {
        const v = inside ? p.data[c * p.width * p.height + (y - margin.y) * p.width + (x - margin.x)] : paper[c] - 0.06 * (x / width) + (rnd() - 0.5) * 0.01;
        data[c * width * height + y * width + x] = v;
      }
    }
  }
  return { width, height, data };
}

/** Paints a grey line: a fold across the sheet (vertical, 2 px at column x) or along an edge. */
function greyLine(image: RgbImage, rect: { x: number; y: number; width: number; height: number }, grey = 0.62): void {
  const { width, height, data } = image;
  for (let y = rect.y; y < rect.y + rect.height; y++) for (let x = rect.x; x < rect.x + rect.width; x++) for (let c = 0; c < 3; c++) data[c * width * height + y * width + x] = grey;
}

/** Darkens towards the corners: 1 in the middle, `edge` at the corners (radial). */
function vignette(image: RgbImage, edge: number): RgbImage {
  const { width, height } = image;
  const data = Float32Array.from(image.data);
  const r0 = Math.hypot(width / 2, height / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const f = 1 - (1 - edge) * (Math.hypot(x - width / 2, y - height / 2) / r0) ** 2;
      for (let c = 0; c < 3; c++) data[c * width * height + y * width + x] *= f;
    }
  }
  return { width, height, data };
}

describe('painting border', () => {
  test('a painting with a 5 % white border, a fold across the sheet and a shadow along its edge: the paper is cropped to the painting', () => {
    const art = painting(216, 162);
    const sheet = onPaper(art, { x: 12, y: 9 }); // 240×180: 5 % of each side
    greyLine(sheet, { x: 100, y: 0, width: 2, height: sheet.height }); // a fold across the whole sheet
    greyLine(sheet, { x: sheet.width - 4, y: 0, width: 2, height: sheet.height }, 0.7); // the sheet's edge
    const border = detectPaintingBorder(sheet);
    assert.deepEqual(border, { top: 9, bottom: 9, left: 12, right: 12 });
    const cropped = cropBorder(sheet, border!);
    assert.equal(cropped.width, art.width);
    assert.equal(cropped.height, art.height);
    // The crop is the painting (the fold across it stays: it is part of the photographed painting).
    const diff = cropped.data.reduce((a, v, i) => a + Math.abs(v - art.data[i]), 0) / cropped.data.length;
    assert.ok(diff < 0.01, `mean |crop − painting| = ${diff}`);
  });

  test('a painting without a border is left alone', () => {
    assert.equal(detectPaintingBorder(painting(240, 180, 3)), null);
  });

  test('a dark-vignetted painting is not mis-cropped', () => {
    for (const edge of [0.4, 0.15, 0.03]) assert.equal(detectPaintingBorder(vignette(painting(240, 180, 4), edge)), null, `vignette to ${edge}`);
  });

  test('a flat sky along one edge is the painting, not paper', () => {
    const art = painting(240, 180, 5);
    greyLine(art, { x: 0, y: 0, width: 240, height: 30 }, 0.8);
    assert.equal(detectPaintingBorder(art), null);
  });

  test('loadPainting crops the border of a file (at full resolution, before resizing) unless asked to keep it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-border-'));
    try {
      const sheet = onPaper(painting(216, 162), { x: 12, y: 9 });
      const bytes = Buffer.alloc(3 * sheet.width * sheet.height);
      const n = sheet.width * sheet.height;
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) bytes[3 * i + c] = Math.round(255 * sheet.data[c * n + i]);
      const file = path.join(dir, 'sheet.png');
      await sharp(bytes, { raw: { width: sheet.width, height: sheet.height, channels: 3 } }).png().toFile(file);
      const cropped = await loadPainting(file, { maxSide: 108 });
      assert.deepEqual(cropped.border, { top: 9, bottom: 9, left: 12, right: 12 });
      assert.deepEqual([cropped.image.width, cropped.image.height], [108, 81]);
      const kept = await loadPainting(file, { maxSide: 120, keepBorder: true });
      assert.equal(kept.border, null);
      assert.deepEqual([kept.image.width, kept.image.height], [120, 90]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the fit cache and the paper border', () => {
  test('a style fitted with the border kept is never taken from the cache (cached fits crop it)', () => {
    const withSettings = (extra: Record<string, unknown>) => ({ settings: { ...currentRecipeSettings(), ...extra } }) as unknown as StyleFile;
    assert.equal(isCurrentRecipe(withSettings({ keepPaintingBorder: false })), true);
    assert.equal(isCurrentRecipe(withSettings({})), true, 'fits of before the option cropped the border too');
    assert.equal(isCurrentRecipe(withSettings({ keepPaintingBorder: true })), false);
  });
});
