/**
 * What the default mode's post-filters (src/transfer/fast/pretrained-cleanup.ts) do to the four
 * pretrained ml5 styles (issue 28, docs/frames-and-grids.md): for each style × photo, the network
 * with `--padding exact`, with reflection padding and no filter, and after each filter in turn
 * (dots; + the 4-px lattice notch; + the weave suppression, which the default applies to wreck
 * only), scored with the tests' lattice ratio and weave prominence (test/helpers/lattice-energy.ts)
 * and src/quality (SWD to the painting, CFSD and SSIM to the photo). One JSON line per pair.
 *
 *   node dist/bench/fast-cleanup.js [--size 512] [--photos golden_gate,tubingen,amber,chicago,stata,hoovertowernight]
 *     [--styles wreck,scream,wave,udnie] [--threads 1]
 */
import * as path from 'node:path';
import { configureThread } from '../src/engine';
import { loadImage, RgbImage } from '../src/image';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { loadStyleModel } from '../src/models/style-model-format';
import { Vgg19 } from '../src/models/vgg19';
import { measureQuality, qualityReference } from '../src/quality';
import { imageToTensor } from '../src/transfer/image-tensor';
import { stylizeImage } from '../src/transfer/fast/run';
import { removeInventedDots } from '../src/transfer/fast/invented-dots';
import { removeLatticePattern } from '../src/transfer/fast/lattice-notch';
import { photoFlatMask } from '../src/transfer/fast/local-filters';
import { suppressWeave } from '../src/transfer/fast/weave-suppression';
import { latticeEnergy, weaveProminence } from '../test/helpers/lattice-energy';

const SHARED = path.resolve(process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared'));
const PAINTING: Record<string, string> = { wave: 'wave', udnie: 'udnie', scream: 'the_scream', wreck: 'shipwreck' };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const copy = (im: RgbImage): RgbImage => ({ ...im, data: im.data.slice() });

async function main(): Promise<void> {
  const size = Number(arg('size', '512'));
  const photos = arg('photos', 'golden_gate,tubingen,amber,chicago,stata,hoovertowernight').split(',');
  const styles = arg('styles', 'wreck,scream,wave,udnie').split(',');
  configureThread({ threads: Number(arg('threads', '1')) });
  const vgg = Vgg19.load({ upTo: 'relu5_1' });
  for (const style of styles) {
    const { net } = loadStyleModel(path.join(SHARED, 'models', 'fast-style', style), 'cpu');
    const painting = await loadImage(path.join(SHARED, 'images', 'style', `${PAINTING[style]}.jpg`), { maxSide: size });
    const paintingRef = qualityReference(vgg, imageToTensor(painting));
    for (const name of photos) {
      const photo = await loadImage(path.join(SHARED, 'images', 'content', `${name}.jpg`), { maxSide: size });
      net.padding = 'exact';
      const exact = stylizeImage(net, photo);
      net.padding = 'reflect';
      const raw = stylizeImage(net, photo);
      const dots = (await removeInventedDots(copy(raw), photo)).image;
      const flat = photoFlatMask(photo);
      let t = performance.now();
      const lattice = removeLatticePattern(copy(dots), flat).image;
      const latticeMs = performance.now() - t;
      t = performance.now();
      const weave = suppressWeave(copy(lattice), flat).image;
      const weaveMs = performance.now() - t;
      const photoRef = qualityReference(vgg, imageToTensor(photo));
      const row: Record<string, unknown> = { style, photo: name, size, latticeMs: Math.round(latticeMs), weaveMs: Math.round(weaveMs) };
      for (const [k, im] of Object.entries({ exact, raw, dots, lattice, weave })) {
        const q = measureQuality(vgg, photoRef, paintingRef, imageToTensor(im));
        row[k] = {
          lattice: +latticeEnergy(im, photo).ratio.toFixed(2),
          weave: +weaveProminence(im, photo).prominence.toFixed(2),
          swd: +q.swd.toFixed(2),
          cfsd: +q.cfsd.toFixed(4),
          ssim: +q.ssim.toFixed(3),
        };
      }
      photoRef.dispose();
      console.log(JSON.stringify(row));
    }
    paintingRef.dispose();
    net.dispose();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
