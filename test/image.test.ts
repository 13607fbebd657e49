import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { NstError } from '../src/errors';
import {
  BYTES_PER_LOADED_PIXEL,
  checkOutputPath,
  checkSideFits,
  DEFAULT_MAX_PIXELS,
  encodeImage,
  imageMemoryPixels,
  largestSideWithin,
  imageSize,
  imageStats,
  loadImage,
  loadImageFromBuffer,
  luminancePreserveColors,
  resizeRgb,
  rgbToYuv,
  saveImage,
  sniffImageFormat,
  yuvToRgb,
  type RgbImage,
} from '../src/image';

let dir: string;
const p = (name: string) => path.join(dir, name);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-image-test-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Asserts an NstError with a one-line message matching `pattern`. */
async function rejectsNst(action: () => Promise<unknown> | unknown, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof NstError, `expected NstError, got ${String(caught)}`);
  assert.ok(!/[\r\n]/.test(caught.message), `message has a newline: ${JSON.stringify(caught.message)}`);
  assert.match(caught.message, pattern);
}

/** Pixel (x, y) of a planar image as [r, g, b]. */
function px(img: RgbImage, x: number, y: number): number[] {
  const n = img.width * img.height;
  const i = y * img.width + x;
  return [img.data[i], img.data[n + i], img.data[2 * n + i]];
}

function assertClose(actual: number[], expected: number[], tol: number, what = ''): void {
  actual.forEach((a, k) => assert.ok(Math.abs(a - expected[k]) <= tol, `${what}[${k}]: ${a} vs ${expected[k]} (tol ${tol})`));
}

function randomImage(width: number, height: number, seed: number, lo = 0, hi = 1): RgbImage {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rand();
  return { width, height, data };
}

const solid = (w: number, h: number, bg: sharp.Color) => sharp({ create: { width: w, height: h, channels: 3, background: bg } });

describe('loadImage: colour handling', () => {
  it('flattens alpha onto white', async () => {
    // pixel 0: fully transparent black; pixel 1: red at alpha 128/255
    const raw = Buffer.from([0, 0, 0, 0, 255, 0, 0, 128]);
    await sharp(raw, { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(p('alpha.png'));
    const img = await loadImage(p('alpha.png'));
    assert.equal(img.width, 2);
    assert.equal(img.height, 1);
    assert.equal(img.data.length, 6);
    assertClose(px(img, 0, 0), [1, 1, 1], 1e-6, 'transparent');
    assertClose(px(img, 1, 0), [1, 127 / 255, 127 / 255], 1e-6, 'half red');
  });

  it('expands grayscale to three equal channels', async () => {
    const raw = Buffer.from([0, 64, 200, 255]);
    await sharp(raw, { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toFile(p('grey.png'));
    assert.equal((await sharp(p('grey.png')).metadata()).channels, 1);
    const img = await loadImage(p('grey.png'));
    [0, 64, 200, 255].forEach((v, i) => assertClose(px(img, i % 2, i >> 1), [v / 255, v / 255, v / 255], 1e-6));
  });

  it('decodes palette PNGs', async () => {
    await solid(4, 4, { r: 10, g: 200, b: 30 }).png({ palette: true }).toFile(p('palette.png'));
    assert.equal((await sharp(p('palette.png')).metadata()).isPalette, true);
    const img = await loadImage(p('palette.png'));
    assertClose(px(img, 2, 2), [10 / 255, 200 / 255, 30 / 255], 1e-6);
  });

  it('keeps the full precision of 16-bit PNGs', async () => {
    const raw = new Uint16Array([1000, 40000, 65535, 0, 257, 12345]);
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toFile(p('deep.png'));
    assert.equal((await sharp(p('deep.png')).metadata()).depth, 'ushort');
    const img = await loadImage(p('deep.png'));
    // 1000/65535 is 4e-4 away from the nearest 8-bit level, so this fails if decoded via 8 bits.
    assertClose(px(img, 0, 0), [1000 / 65535, 40000 / 65535, 1], 1e-6);
    assertClose(px(img, 1, 0), [0, 257 / 65535, 12345 / 65535], 1e-6);
  });

  it('converts CMYK JPEGs to sRGB', async () => {
    await solid(8, 8, { r: 220, g: 30, b: 40 }).toColourspace('cmyk').jpeg().toFile(p('cmyk.jpg'));
    assert.equal((await sharp(p('cmyk.jpg')).metadata()).space, 'cmyk');
    const img = await loadImage(p('cmyk.jpg'));
    assert.equal(img.data.length, 3 * 64);
    const [r, g, b] = px(img, 4, 4);
    assert.ok(r > 0.7 && g < 0.25 && b < 0.3, `expected red, got ${[r, g, b]}`);
  });

  it('honours EXIF orientation 6 (rotate 90° clockwise)', async () => {
    // 16x8, left half red, right half blue; displayed it becomes 8x16 with red on top.
    const raw = Buffer.alloc(16 * 8 * 3);
    for (let i = 0; i < 16 * 8; i++) raw[3 * i + ((i % 16) < 8 ? 0 : 2)] = 255;
    await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(p('orient6.jpg'));
    assert.deepEqual(await imageSize(p('orient6.jpg')), { width: 8, height: 16 });
    const img = await loadImage(p('orient6.jpg'));
    assert.equal(img.width, 8);
    assert.equal(img.height, 16);
    const top = px(img, 4, 1);
    const bottom = px(img, 4, 14);
    assert.ok(top[0] > 0.8 && top[2] < 0.2, `top should be red: ${top}`);
    assert.ok(bottom[2] > 0.8 && bottom[0] < 0.2, `bottom should be blue: ${bottom}`);
  });
});

describe('loadImage: sizing', () => {
  before(async () => {
    await solid(40, 30, '#808080').png().toFile(p('40x30.png'));
    await solid(30, 45, '#808080').png().toFile(p('30x45.png'));
  });

  it('maxSide makes the longest side exact and keeps the aspect', async () => {
    const cases: [string, number, number, number][] = [
      ['40x30.png', 16, 16, 12],
      ['30x45.png', 20, 13, 20],
      ['40x30.png', 100, 100, 75], // upscaling too
    ];
    for (const [file, maxSide, w, h] of cases) {
      const img = await loadImage(p(file), { maxSide });
      assert.deepEqual([img.width, img.height], [w, h], `${file} maxSide ${maxSide}`);
      assert.equal(img.data.length, 3 * w * h);
      assertClose(px(img, w >> 1, h >> 1), [128 / 255, 128 / 255, 128 / 255], 1 / 255);
    }
  });

  it('width and height give an exact size', async () => {
    const img = await loadImage(p('40x30.png'), { width: 7, height: 5 });
    assert.deepEqual([img.width, img.height], [7, 5]);
  });

  it('refuses more than maxPixels, pointing at --max-pixels', async () => {
    await rejectsNst(() => loadImage(p('40x30.png'), { maxPixels: 1199 }), /1200 pixels.*--max-pixels/);
    const ok = await loadImage(p('40x30.png'), { maxPixels: 1200 });
    assert.equal(ok.width, 40);
  });

  it('refuses a resize to more than maxPixels, before decoding, naming the largest side that fits', async () => {
    // 100x75 = 7500 pixels; 81x61 = 4941 fits, 82x62 = 5084 does not.
    await rejectsNst(
      () => loadImage(p('40x30.png'), { maxSide: 100, maxPixels: 5000 }),
      /^resizing '.*40x30\.png' to a longest side of 100 makes it 100x75 \(7500 pixels\), over the limit of 5000 pixels \(--max-pixels\); the largest side that fits is 81 \(lower --size\)$/,
    );
    const fits = await loadImage(p('40x30.png'), { maxSide: 81, maxPixels: 5000 });
    assert.deepEqual([fits.width, fits.height], [81, 61]);
    // Portrait: 57x86 = 4902 fits, 58x87 = 5046 does not.
    await rejectsNst(() => loadImage(p('30x45.png'), { maxSide: 200, maxPixels: 5000 }), /makes it 133x200 \(26600 pixels\).* the largest side that fits is 86 /);
    assert.equal(largestSideWithin(30, 45, 5000), 86);
    assert.equal(largestSideWithin(40, 30, 7500), 100);
    // From the size alone, as the CLI checks --size before decoding: a 4:3 photo at 100000 px
    // needs 28 GiB of pixel buffers (vips failed with "out of memory", blaming the photo).
    await rejectsNst(() => checkSideFits(p('40x30.png'), 40, 30, 100000, DEFAULT_MAX_PIXELS, '--size'), /^--size 100000 makes '.*40x30\.png' 100000x75000 \(7500000000 pixels\), over the limit of 50000000 pixels \(--max-pixels\); the largest --size that fits it is 8164$/);
    checkSideFits(p('40x30.png'), 40, 30, 8164, DEFAULT_MAX_PIXELS, '--size');
  });

  it('a --max-pixels above what memory holds: the machine\'s memory is the bound', async () => {
    const limit = imageMemoryPixels();
    assert.equal(limit, Math.floor(os.totalmem() / BYTES_PER_LOADED_PIXEL));
    const side = largestSideWithin(40, 30, limit);
    await rejectsNst(
      () => loadImage(p('40x30.png'), { maxSide: side + 1, maxPixels: Infinity }),
      new RegExp(`over the ${limit} pixels whose buffers fit in this machine's [0-9.]+ GiB of memory; the largest side that fits is ${side} `),
    );
  });
});

describe('loadImage: errors are one-line NstErrors', () => {
  it('missing file', async () => {
    await rejectsNst(() => loadImage(p('nope.png')), /^cannot read image '.*nope\.png': no such file$/);
    await rejectsNst(() => imageSize(p('nope.png')), /no such file/);
  });

  it('directory', async () => {
    await rejectsNst(() => loadImage(dir), /is a directory/);
  });

  it('empty file', async () => {
    fs.writeFileSync(p('empty.png'), '');
    await rejectsNst(() => loadImage(p('empty.png')), /empty/);
    await rejectsNst(() => loadImageFromBuffer(Buffer.alloc(0), {}, 'upload'), /'upload'.*empty/);
  });

  it('text file named .jpg', async () => {
    fs.writeFileSync(p('text.jpg'), 'this is not a JPEG\nat all\n');
    await rejectsNst(() => loadImage(p('text.jpg')), /not an image/);
  });

  it('truncated JPEG', async () => {
    const noise = Buffer.from(randomImage(64, 64, 11).data.map((v) => Math.floor(v * 255)));
    const full = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    fs.writeFileSync(p('truncated.jpg'), full.subarray(0, full.length >> 1));
    await rejectsNst(() => loadImage(p('truncated.jpg')), /truncated or corrupt/);
  });

  it('an SVG is refused by its bytes, naming the formats accepted (the same rule as the server)', async () => {
    // librsvg would render it, fetching what it links to; it is a drawing, not a photo.
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>';
    fs.writeFileSync(p('drawing.svg'), svg);
    fs.writeFileSync(p('drawing.png'), svg);
    const accepted = /: not an image in a supported format \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)$/;
    await rejectsNst(() => loadImage(p('drawing.svg')), accepted);
    await rejectsNst(() => loadImage(p('drawing.png')), accepted);
    await rejectsNst(() => loadImageFromBuffer(Buffer.from(svg), {}, 'upload'), accepted);
    await rejectsNst(() => imageSize(p('drawing.svg')), accepted);
    assert.equal(sniffImageFormat(Buffer.from(svg)), null);
    assert.equal(sniffImageFormat(await solid(4, 4, '#000').png().toBuffer()), 'png');
  });

  it('AVIF is known by its major brand or a compatible one; HEIC is not AVIF', async () => {
    const ftyp = (major: string, compatible: string[]) => {
      const box = Buffer.alloc(16 + 4 * compatible.length);
      box.writeUInt32BE(box.length, 0);
      box.write('ftyp', 4, 'latin1');
      box.write(major, 8, 'latin1');
      compatible.forEach((b, i) => box.write(b, 16 + 4 * i, 'latin1'));
      return Buffer.concat([box, Buffer.alloc(32)]); // the next box: not read as brands
    };
    assert.equal(sniffImageFormat(ftyp('avif', ['avif', 'mif1'])), 'avif');
    assert.equal(sniffImageFormat(ftyp('mif1', ['mif1', 'avif', 'miaf'])), 'avif');
    assert.equal(sniffImageFormat(ftyp('heic', ['mif1', 'heic'])), null);
    assert.equal(sniffImageFormat(ftyp('mif1', ['mif1', 'heic'])), null);
    const avif = await solid(8, 8, '#808080').avif().toBuffer();
    assert.equal(sniffImageFormat(avif), 'avif');
    // The same file with 'mif1' as its major brand (as some encoders write it) is still AVIF.
    const mif1 = Buffer.from(avif);
    mif1.write('mif1', 8, 'latin1');
    if (mif1.subarray(16, mif1.readUInt32BE(0)).includes('avif')) {
      assert.equal(sniffImageFormat(mif1), 'avif');
      const img = await loadImageFromBuffer(mif1, {}, 'upload');
      assert.equal(img.width, 8);
    }
  });

  it('a newline in the file name stays escaped', async () => {
    await rejectsNst(() => loadImage(p('bad\nname.png')), /bad\\x0aname\.png/);
  });

  it('invalid options', async () => {
    await rejectsNst(() => loadImage(p('40x30.png'), { maxSide: 0 }), /maxSide/);
  });
});

describe('saveImage / encodeImage', () => {
  it('round-trips PNG to within half an 8-bit step, clamping out-of-range values', async () => {
    const img = randomImage(9, 7, 42, -0.2, 1.2);
    await saveImage(img, p('round.png'));
    const back = await loadImage(p('round.png'));
    assert.deepEqual([back.width, back.height], [9, 7]);
    for (let i = 0; i < img.data.length; i++) {
      const want = Math.min(1, Math.max(0, img.data[i]));
      assert.ok(Math.abs(back.data[i] - want) <= 0.5 / 255 + 1e-6, `value ${i}: ${back.data[i]} vs ${want}`);
    }
  });

  it('picks the format from the extension', async () => {
    const img = randomImage(8, 8, 1);
    const cases: [string, string][] = [
      ['a.jpg', 'jpeg'],
      ['a.JPEG', 'jpeg'],
      ['a.webp', 'webp'],
      ['a.tif', 'tiff'],
    ];
    for (const [name, format] of cases) {
      await saveImage(img, p(name), { quality: 80 });
      assert.equal((await sharp(p(name)).metadata()).format, format, name);
    }
  });

  it('overwrites atomically and leaves no temp files', async () => {
    await saveImage(randomImage(4, 4, 2), p('over.png'));
    await saveImage(randomImage(6, 3, 3), p('over.png'));
    assert.deepEqual(await imageSize(p('over.png')), { width: 6, height: 3 });
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('unknown extension, missing directory, directory target: NstError and nothing left behind', async () => {
    const img = randomImage(4, 4, 4);
    const before = fs.readdirSync(dir).sort();
    await rejectsNst(() => saveImage(img, p('out.bmp')), /unknown extension '\.bmp'/);
    await rejectsNst(() => saveImage(img, p('out')), /no file extension/);
    await rejectsNst(() => saveImage(img, p('missing/out.png')), /^cannot write '.*out\.png': directory '.*missing' does not exist$/);
    fs.mkdirSync(p('folder.png'));
    await rejectsNst(() => saveImage(img, p('folder.png')), /is a directory/);
    fs.rmdirSync(p('folder.png'));
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
  });

  it('rejects a bad quality', async () => {
    await rejectsNst(() => saveImage(randomImage(2, 2, 5), p('q.jpg'), { quality: 0 }), /quality/);
    assert.ok(!fs.existsSync(p('q.jpg')));
  });

  it('checkOutputPath pre-flight', () => {
    checkOutputPath(p('fine.png'));
    assert.ok(!fs.existsSync(p('fine.png')), 'the check must not create the file');
    assert.throws(() => checkOutputPath(p('fine.gif')), NstError);
    assert.throws(() => checkOutputPath(p('missing/fine.png')), (e: unknown) => e instanceof NstError && /does not exist/.test(e.message));
    fs.writeFileSync(p('plainfile'), 'x');
    assert.throws(() => checkOutputPath(p('plainfile/x.png')), (e: unknown) => e instanceof NstError && /not a directory/.test(e.message));
  });

  it('encodeImage produces an in-memory image', async () => {
    const buf = await encodeImage(randomImage(5, 3, 6), 'png');
    const meta = await sharp(buf).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 5, 3]);
    const jpg = await encodeImage(randomImage(5, 3, 6), 'jpeg', { quality: 50 });
    assert.equal((await sharp(jpg).metadata()).format, 'jpeg');
  });
});

describe('convert', () => {
  it('rgbToYuv has BT.601 values and yuvToRgb inverts it', () => {
    const img: RgbImage = { width: 3, height: 1, data: new Float32Array([1, 1, 0, /* G */ 1, 0, 0, /* B */ 1, 0, 0]) };
    const yuv = rgbToYuv(img); // pixels: white, red, green
    const n = 3;
    assertClose([yuv.data[0], yuv.data[n], yuv.data[2 * n]], [1, 0, 0], 1e-6, 'white');
    assertClose([yuv.data[1], yuv.data[n + 1], yuv.data[2 * n + 1]], [0.299, -0.492 * 0.299, 0.877 * 0.701], 1e-6, 'red');
    const r = randomImage(6, 5, 7);
    const back = yuvToRgb(rgbToYuv(r));
    assertClose(Array.from(back.data), Array.from(r.data), 1e-6, 'round trip');
  });

  it('luminancePreserveColors takes Y from styled and U,V from content', () => {
    const styled = randomImage(6, 4, 8);
    const content = randomImage(6, 4, 9);
    const out = luminancePreserveColors(styled, content);
    const n = 24;
    const [yo, ys, yc] = [rgbToYuv(out), rgbToYuv(styled), rgbToYuv(content)];
    assertClose(Array.from(yo.data.subarray(0, n)), Array.from(ys.data.subarray(0, n)), 1e-5, 'Y');
    assertClose(Array.from(yo.data.subarray(n)), Array.from(yc.data.subarray(n)), 1e-5, 'UV');
    assert.throws(() => luminancePreserveColors(styled, randomImage(4, 6, 1)), RangeError);
  });

  it('imageStats gives per-channel mean and population std', () => {
    // R: 0,1,0,1 -> mean .5 std .5; G: constant .25; B: 0,0,0,1 -> mean .25 std sqrt(3)/4
    const img: RgbImage = { width: 2, height: 2, data: new Float32Array([0, 1, 0, 1, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 1]) };
    const { mean, std } = imageStats(img);
    assertClose(mean, [0.5, 0.25, 0.25], 1e-7, 'mean');
    assertClose(std, [0.5, 0, Math.sqrt(3) / 4], 1e-7, 'std');
  });

  it('resizeRgb keeps constants, averages when halving, and sizes exactly', async () => {
    const flat: RgbImage = { width: 5, height: 3, data: new Float32Array(45).fill(0.3) };
    for (const [w, h] of [[11, 7], [2, 1], [5, 9]]) {
      const r = await resizeRgb(flat, w, h);
      assert.deepEqual([r.width, r.height, r.data.length], [w, h, 3 * w * h]);
      assertClose(Array.from(r.data), new Array(3 * w * h).fill(0.3), 1e-6, `${w}x${h}`);
    }
    // Halving a 1-pixel checkerboard must blur it to grey (point sampling would give pure 0s or 1s):
    // exactly 0.5 away from the borders, where the filter is symmetric.
    const checker = new Float32Array(3 * 64);
    for (let i = 0; i < 64; i++) checker[i] = checker[64 + i] = checker[128 + i] = ((i % 8) + (i >> 3)) % 2;
    const half = await resizeRgb({ width: 8, height: 8, data: checker }, 4, 4);
    assertClose(Array.from(half.data), new Array(48).fill(0.5), 0.1, 'checker');
    for (const [x, y] of [[1, 1], [2, 1], [1, 2], [2, 2]]) assertClose(px(half, x, y), [0.5, 0.5, 0.5], 1e-6, `checker ${x},${y}`);
    // a horizontal ramp stays monotonic and within range when upscaled
    const ramp: RgbImage = { width: 4, height: 1, data: new Float32Array([0, 1 / 3, 2 / 3, 1, 0, 1 / 3, 2 / 3, 1, 0, 1 / 3, 2 / 3, 1]) };
    const up = await resizeRgb(ramp, 8, 1);
    for (let x = 1; x < 8; x++) assert.ok(up.data[x] >= up.data[x - 1]);
    assert.equal(up.data[0], 0);
    assert.equal(up.data[7], 1);
  });
});
