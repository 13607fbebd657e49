/**
 * A VGG19 (conv1_1 … conv5_1) with seeded random weights, written in the TF.js layers format that
 * Vgg19.load reads (model.json + one float32 shard, kernels HWIO). The device check uses it where
 * the real weights (80 MB) cannot travel: speed does not depend on the values, and parity (CPU vs
 * GPU, engine vs PyTorch) only needs both sides to use the same ones. He-initialised, so
 * activations keep their scale through the 13 layers.
 *
 * Usage: node dist/bench/device/random-vgg19.js MODEL_DIR [SEED]  → MODEL_DIR/vgg19/model.json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from '../../src/util/random';

/** [keras name, in, out] of each convolution up to conv5_1. */
export const RANDOM_VGG19_CONVS: [string, number, number][] = (() => {
  const blocks = [[64, 2], [128, 2], [256, 4], [512, 4], [512, 1]];
  const out: [string, number, number][] = [];
  let cin = 3;
  blocks.forEach(([channels, convs], b) => {
    for (let i = 1; i <= convs; i++) {
      out.push([`block${b + 1}_conv${i}`, cin, channels]);
      cin = channels;
    }
  });
  return out;
})();

/** Writes the model under modelDir/vgg19 and returns the model.json path. */
export function writeRandomVgg19(modelDir: string, seed = 1): string {
  const dir = path.join(modelDir, 'vgg19');
  fs.mkdirSync(dir, { recursive: true });
  const rand = seededRandom(seed);
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const chunks: Buffer[] = [];
  for (const [name, cin, cout] of RANDOM_VGG19_CONVS) {
    const bound = Math.sqrt(6 / (9 * cin)); // uniform with variance 2 / fan_in
    const kernel = new Float32Array(9 * cin * cout).map(() => (rand() * 2 - 1) * bound);
    const bias = new Float32Array(cout).map(() => (rand() * 2 - 1) * 0.01);
    weights.push({ name: `${name}/kernel`, shape: [3, 3, cin, cout], dtype: 'float32' }, { name: `${name}/bias`, shape: [cout], dtype: 'float32' });
    chunks.push(Buffer.from(kernel.buffer), Buffer.from(bias.buffer));
  }
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(chunks));
  const modelJson = path.join(dir, 'model.json');
  fs.writeFileSync(modelJson, JSON.stringify({ format: 'layers-model', generatedBy: `nst random VGG19, seed ${seed}`, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }] }));
  return modelJson;
}

if (require.main === module) {
  const [dir, seed] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: random-vgg19.js MODEL_DIR [SEED]\n');
    process.exit(2);
  }
  process.stdout.write(writeRandomVgg19(dir, seed ? Number(seed) : 1) + '\n');
}
