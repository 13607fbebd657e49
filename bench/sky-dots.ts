/**
 * The sky of Tübingen × The Starry Night at 512 × 384 (docs/transfer-methods.md, "The green dots"):
 * `node dist/bench/sky-dots.js [--sheet OUT.jpg] LABEL=OUTPUT.png …` prints, per output, JSON with
 * measures over two sky boxes (no tower, no tree):
 * - saturatedGreenPer10k: pixels with G − R > 100 and G ≥ B, per 10,000 sky pixels: the dots seen
 *   by eye (Gatys's pale teal strokes stay under it); saturatedGreenWholePer10k: the same over the
 *   whole image (a painting given as an output: its own share);
 * - isolatedGreenPer10k: pixels greener (G − (R+B)/2) than their 8 neighbours' mean by > 20 and
 *   with G above theirs by > 10 (a first try: it misses dots 2–3 pixels wide);
 * - highFrequencyRms: RMS of the image minus its 3 × 3 mean (0–255 scale, over R, G, B);
 * - lattice2x2Rms: RMS of each pixel minus the mean of its aligned 2 × 2 block (what 2 × 2 means cannot see);
 * - relu1_1Swd / relu1_1SwdSky: src/quality's sliced Wasserstein of relu1_1 against the painting
 *   at 512 px, every position (the whole image / the first sky box).
 * --sheet writes the first sky box of each output, 2× nearest, side by side and labelled.
 */
import path from 'node:path';
import sharp from 'sharp';
import { configureThread, tensor, tidy, keep, type Tensor } from '../src/engine';
import { Vgg19 } from '../src/models';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { slicedWasserstein } from '../src/quality';

const SHARED = path.resolve(process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared'));
const PAINTING = path.join(SHARED, 'images/style/starry_night.jpg');
const WIDTH = 512;
/** x0, y0, x1, y1 at 512 × 384. */
const SKY: [number, number, number, number][] = [
  [110, 5, 310, 125],
  [360, 5, 500, 85],
];

interface Raw {
  data: Buffer;
  w: number;
  h: number;
}

async function load(file: string): Promise<Raw> {
  const { data, info } = await sharp(file).resize(WIDTH).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, w: info.width, h: info.height };
}

const saturatedGreen = (data: Buffer, i: number) => data[i * 3 + 1] - data[i * 3] > 100 && data[i * 3 + 1] >= data[i * 3 + 2];

function pixelMeasures({ data, w, h }: Raw): Record<string, number> {
  const px = (x: number, y: number, c: number) => data[(y * w + x) * 3 + c];
  const green = (x: number, y: number) => px(x, y, 1) - (px(x, y, 0) + px(x, y, 2)) / 2;
  let hf = 0;
  let lattice = 0;
  let dots = 0;
  let saturated = 0;
  let n = 0;
  for (const [x0, y0, x1, y1] of SKY) {
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        n++;
        if (saturatedGreen(data, y * w + x)) saturated++;
        let neighboursGreen = 0;
        let neighboursG = 0;
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += px(x + dx, y + dy, c);
          hf += (px(x, y, c) - sum / 9) ** 2;
          const [bx, by] = [x & ~1, y & ~1];
          lattice += (px(x, y, c) - (px(bx, by, c) + px(bx + 1, by, c) + px(bx, by + 1, c) + px(bx + 1, by + 1, c)) / 4) ** 2;
        }
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if (dx === 0 && dy === 0) continue;
            neighboursGreen += green(x + dx, y + dy) / 8;
            neighboursG += px(x + dx, y + dy, 1) / 8;
          }
        }
        if (green(x, y) - neighboursGreen > 20 && px(x, y, 1) - neighboursG > 10) dots++;
      }
    }
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  let whole = 0;
  for (let i = 0; i < w * h; i++) if (saturatedGreen(data, i)) whole++;
  return {
    saturatedGreenPer10k: round((saturated / n) * 1e4),
    saturatedGreenWholePer10k: round((whole / (w * h)) * 1e4),
    isolatedGreenPer10k: round((dots / n) * 1e4),
    highFrequencyRms: round(Math.sqrt(hf / n / 3)), lattice2x2Rms: round(Math.sqrt(lattice / n / 3)),
  };
}

async function sheet(out: string, outputs: { label: string; file: string }[]): Promise<void> {
  const [x0, y0, x1, y1] = SKY[0];
  const [cw, ch] = [(x1 - x0) * 2, (y1 - y0) * 2];
  const tiles = await Promise.all(
    outputs.map(async ({ label, file }) => {
      const resized = await sharp(file).resize(WIDTH).png().toBuffer();
      const cut = await sharp(resized).extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 }).png().toBuffer();
      const crop = await sharp(cut).resize(cw, ch, { kernel: 'nearest' }).png().toBuffer();
      const text = Buffer.from(`<svg width="${cw}" height="22"><rect width="${cw}" height="22" fill="white"/><text x="4" y="16" font-family="sans-serif" font-size="15">${label}</text></svg>`);
      return sharp({ create: { width: cw, height: ch + 22, channels: 3, background: 'white' } })
        .composite([{ input: text, top: 0, left: 0 }, { input: crop, top: 22, left: 0 }])
        .png()
        .toBuffer();
    }),
  );
  await sharp({ create: { width: (cw + 4) * tiles.length, height: ch + 22, channels: 3, background: 'white' } })
    .composite(tiles.map((t, i) => ({ input: t, top: 0, left: (cw + 4) * i })))
    .jpeg({ quality: 85 })
    .toFile(out);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sheetAt = args.indexOf('--sheet');
  const sheetOut = sheetAt >= 0 ? args.splice(sheetAt, 2)[1] : null;
  const outputs = args.map((a) => {
    const at = a.indexOf('=');
    return at > 0 ? { label: a.slice(0, at), file: a.slice(at + 1) } : { label: path.basename(a), file: a };
  });
  configureThread({ threads: 1 });
  const net = Vgg19.load({ upTo: 'relu1_1' });
  const relu11 = (r: Raw): Tensor => {
    const rgb = tensor(Float32Array.from(r.data, (v) => v / 255), [1, r.h, r.w, 3]).permute([0, 3, 1, 2]).contiguous();
    return net.forward(net.preprocess(rgb), ['relu1_1']).get('relu1_1')!;
  };
  const painting = await load(PAINTING);
  const target = tidy(() => keep(relu11(painting)));
  for (const { label, file } of outputs) {
    const raw = await load(file);
    const [x0, y0, x1, y1] = SKY[0];
    const swd = tidy(() => {
      const f = relu11(raw);
      const round = (v: number) => Math.round(v * 1000) / 1000;
      return { relu1_1Swd: round(slicedWasserstein(f, target)), relu1_1SwdSky: round(slicedWasserstein(f.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0), target)) };
    });
    console.log(JSON.stringify({ label, ...pixelMeasures(raw), ...swd }));
  }
  target.dispose();
  if (sheetOut) await sheet(sheetOut, outputs);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
