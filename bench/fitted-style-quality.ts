/**
 * `node dist/bench/fitted-style-quality.js [--paintings a,b|all] [--photos a,b] [--threads N]
 *   [--fitted-dir DIR] [--fit JSON] [--stylise JSON] [--work-dir DIR] [--sheet FILE] [--sheet-cell PX] [--sheet-plain] [--out FILE]`
 *
 * Issue 24's check: fits each held-out painting with the default recipe (or reuses
 * `<fitted-dir>/<painting>.style.json`; `--fit '{"stageContentScales":[30,30,10]}'` overrides
 * fit options for experiments), paints the check's photos, and prints JSON: per photo × painting
 * the CFSD over the Johnson networks' median (target ≤ 1.5) and the SWD over the unstyled photo's
 * (target ≤ 0.7), the vector's norm, and the fit's seconds. Photos are painted as `nst fast` paints
 * them (each style's own finish, chosen by its fit: paint scale and palette, or the plain pass;
 * FITTED_STYLISE_DEFAULTS for files that record none), and each row also scores the other finish
 * (`other`); `--stylise '{"paintScale":1,"paletteMatch":0}'` paints every style with that one. `--sheet` writes a contact sheet
 * (photo | painting | fitted | Johnson) of every pair (`--sheet-cell`: its cell size; .jpg or .png;
 * `--sheet-plain` adds the plain one pass beside the fitted output, scored the same way).
 * Fitted style files go to `--work-dir` (default out/bench/fitted-style-quality).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, engineInfo, keep, tidy } from '../src/engine';
import { encodeImage, loadImage, loadImageFromBuffer } from '../src/image';
import { Vgg19 } from '../src/models/vgg19';
import { qualityReference } from '../src/quality';
import { renderContactSheet, SheetCell } from '../src/transfer/explore/contact-sheet';
import { imageToTensor } from '../src/transfer/image-tensor';
import { FitStyleOptions, resolveFitOptions } from '../src/transfer/arbitrary/options';
import { loadArbitraryTransformer, runFitStyle } from '../src/transfer/arbitrary/run-fit';
import { readStyleFile } from '../src/transfer/arbitrary/style-file';
import { checkPaintScale } from '../src/transfer/arbitrary/paint-scale';
import { checkPaletteMatch, stylePalette } from '../src/transfer/arbitrary/palette-match';
import { CLOSE_UP_FINISH, PLAIN_FINISH, StyleFinish } from '../src/transfer/arbitrary/finish-choice';
import { defaultFinishOf, FITTED_STYLISE_DEFAULTS } from '../src/transfer/arbitrary/selection';
import {
  HELD_OUT_PAINTINGS,
  NamedImage,
  PairScore,
  preparePhoto,
  PreparedPhoto,
  QUALITY_PHOTOS,
  scoreFittedStyle,
  SHARED_DATA_DIR,
} from '../src/transfer/arbitrary/quality-check';

const SIZE = 256;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const pick = (all: NamedImage[], list: string | undefined) => {
    if (!list || list === 'all') return all;
    return list.split(',').map((n) => all.find((p) => p.name === n) ?? { name: path.basename(n, path.extname(n)), file: path.resolve(n), kind: 'given' });
  };
  const paintings = pick(HELD_OUT_PAINTINGS, value('--paintings'));
  const photos = pick(QUALITY_PHOTOS, value('--photos'));
  const threads = value('--threads') ? Number(value('--threads')) : undefined;
  const fittedDir = value('--fitted-dir');
  const fitOverrides = JSON.parse(value('--fit') ?? '{}') as Partial<FitStyleOptions>;
  const forced = value('--stylise') ? { ...FITTED_STYLISE_DEFAULTS, ...(JSON.parse(value('--stylise')!) as Partial<StyleFinish>) } : undefined;
  if (forced) {
    checkPaintScale(forced.paintScale);
    checkPaletteMatch(forced.paletteMatch);
  }
  const sheetPlain = argv.includes('--sheet-plain');
  const outDir = path.resolve(value('--work-dir') ?? path.join('out', 'bench', 'fitted-style-quality'));
  fs.mkdirSync(outDir, { recursive: true });
  const runtime = configureThread({ threads, seed: 1 });

  const vgg = Vgg19.load({ upTo: 'relu5_1' });
  const net = loadArbitraryTransformer(undefined, runtime.device, 'fp32');
  const prepared: PreparedPhoto[] = [];
  const rows: (PairScore & { finish: StyleFinish; other: { finish: StyleFinish; cfsdRatio: number; swdRatio: number; pass: boolean } })[] = [];
  const fits: Record<string, unknown>[] = [];
  const sheet: SheetCell[] = [];
  try {
    for (const p of photos) prepared.push(await preparePhoto(vgg, p, SIZE));
    for (const painting of paintings) {
      const file = path.resolve(SHARED_DATA_DIR, painting.file);
      const styleFile = path.join(fittedDir ?? outDir, `${painting.name}.style.json`);
      let vector: Float32Array;
      if (fittedDir) {
        vector = Float32Array.from(readStyleFile(styleFile).vector);
        fits.push({ painting: painting.name, reused: styleFile, norm: norm(vector) });
      } else {
        const fit = await runFitStyle(resolveFitOptions({ ...fitOverrides, styleImage: file, name: painting.name, output: styleFile, overwrite: true, threads }));
        vector = Float32Array.from(fit.vector);
        fits.push({ painting: painting.name, seconds: fit.seconds, evaluations: fit.evaluations, precision: fit.precision, branch: fit.branch, branchLosses: fit.branchLosses, closeUp: fit.closeUp, photos: fit.photos.map((f) => path.basename(f)), norm: norm(vector), stages: fit.stages });
      }
      const style = readStyleFile(styleFile);
      const finish = forced ?? defaultFinishOf(style);
      const plainOwn = finish.paintScale === PLAIN_FINISH.paintScale && finish.paletteMatch === PLAIN_FINISH.paletteMatch;
      const other = plainOwn ? CLOSE_UP_FINISH : PLAIN_FINISH;
      const palette = await stylePalette(style);
      fits[fits.length - 1].finish = finish;
      fits[fits.length - 1].finishChoice = (style.settings as Record<string, unknown>).finishChoice ?? null;
      const paintingImage = await loadImage(file, { maxSide: SIZE });
      const paintingTensor = keep(tidy(() => imageToTensor(paintingImage)));
      const reference = qualityReference(vgg, paintingTensor);
      try {
        for (const photo of prepared) {
          const { score, output } = scoreFittedStyle(vgg, net, vector, photo, { name: painting.name, reference, palette }, finish);
          const otherRun = scoreFittedStyle(vgg, net, vector, photo, { name: painting.name, reference, palette }, other);
          const alt = otherRun.score;
          rows.push({ ...score, finish, other: { finish: other, cfsdRatio: alt.cfsdRatio, swdRatio: alt.swdRatio, pass: alt.pass } });
          process.stderr.write(`${painting.name} × ${photo.name} (${fits[fits.length - 1].branch ?? 'reused'}): cfsd ${score.cfsdRatio} swd ${score.swdRatio}${score.pass ? '' : '  (misses)'}\n`);
          const label = (s: PairScore) => `${s.cfsdRatio.toFixed(2)} / ${s.swdRatio.toFixed(2)}`;
          sheet.push({ image: photo.image, lines: [photo.name, 'photo'] }, { image: paintingImage, lines: [painting.name, painting.kind] });
          if (sheetPlain) {
            // The plain pass is one of the two finishes just scored.
            const plain = plainOwn ? { score, output } : otherRun;
            sheet.push({ image: plain.output, lines: ['plain pass', label(plain.score)] });
          }
          sheet.push(
            { image: output, lines: [plainOwn ? 'plain pass (its finish)' : `×${finish.paintScale}, palette ${finish.paletteMatch}`, label(score)] },
            { image: photo.johnsonSample.image, lines: [`johnson ${photo.johnsonSample.style}`, `median cfsd ${score.johnsonMedianCfsd.toFixed(3)}`] },
          );
        }
      } finally {
        reference.dispose();
        paintingTensor.dispose();
      }
    }
  } finally {
    for (const p of prepared) p.dispose();
    net.dispose();
    vgg.dispose();
  }
  const sheetFile = value('--sheet');
  if (sheetFile) {
    const cell = Number(value('--sheet-cell') ?? SIZE);
    const rendered = await renderContactSheet(`fitted styles (${SIZE} px; CFSD ratio / SWD ratio): photo | painting | ${sheetPlain ? 'plain pass | ' : ''}fitted, with its finish | Johnson`, sheet, cell, cell, { columns: sheetPlain ? 5 : 4 });
    const image = await loadImageFromBuffer(rendered.png);
    fs.writeFileSync(sheetFile, await encodeImage(image, sheetFile.endsWith('.png') ? 'png' : 'jpeg', { quality: 82 }));
  }
  const summary = {
    pairs: rows.length,
    passing: rows.filter((r) => r.pass).length,
    worstCfsdRatio: Math.max(...rows.map((r) => r.cfsdRatio)),
    worstSwdRatio: Math.max(...rows.map((r) => r.swdRatio)),
  };
  const result = { engine: engineInfo(), threads: runtime.threads, fitOverrides, finish: forced ?? 'each style\'s own', photos: prepared.map((p) => ({ name: p.name, johnsonCfsd: p.johnsonCfsd })), fits, rows, summary };
  const json = JSON.stringify(result, null, 2) + '\n';
  const outFile = value('--out');
  if (outFile) fs.writeFileSync(outFile, json);
  process.stdout.write(json);
}

function norm(v: Float32Array): number {
  return Math.round(Math.sqrt(v.reduce((a, x) => a + x * x, 0)) * 1000) / 1000;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
