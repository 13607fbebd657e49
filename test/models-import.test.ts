/**
 * `nst models import`: Keras .h5 and PyTorch .pth VGG19 files are converted into the project's
 * format with exactly the original values, the preprocessing they expect is recorded and used, every
 * load verifies shapes and checksums, and bad input (a non-HDF5 .h5, a truncated file, another
 * network, missing layers, a read-only model directory) is a one-line error with nothing installed.
 * With the real Keras .h5 or neural-style-pt .pth at hand, the converted VGG19 gives the same
 * activations as ../shared/models/vgg19.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NstError } from '../src/errors';
import { conv2d, maxPool2d, rand, tensor, tidy, Tensor } from '../src/engine';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { readLayersModelWeights } from '../src/models/tfjs-layers';
import { Vgg19 } from '../src/models/vgg19';
import { fromTorchvision, toCaffe, toTorchvision } from '../src/models/preprocess';
import { importKerasH5, KERAS_VGG19_NOTOP, loadH5wasm } from '../src/models/import-keras-h5';
import { importTorchPth, openTorchFile, readTorchVgg19, stateDictTensors, tensorValues } from '../src/models/import-torch-pth';
import { digestFile, listInstalledModels, MODEL_METADATA_FILE, readModelMetadata, VGG19_CONVS } from '../src/models/model-registry';
import { bias, CHANNELS, FIXTURES_DIR, hwioShape, kernelHWIO, kernelOIHW, writeKerasH5 } from './fixtures/models/fixtures';
import { MODELS_DIR } from './helpers/reference';

/** The bytes of a typed array (a view may share a larger buffer). */
const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
const fixture = (name: string) => path.join(FIXTURES_DIR, name);
let dir: string;
let counter = 0;
const freshDir = () => path.join(dir, `m${++counter}`);

function nst(args: string[], extra: { uid?: number; gid?: number } = {}) {
  return spawnSync(process.execPath, [NST, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NST_DEBUG: '', NST_MODEL_DIR: '', XDG_CACHE_HOME: path.join(dir, 'cache') },
    ...extra,
  });
}

/** Every stored weight of the installed model equals the fixture's values bit for bit. */
function assertTinyValues(modelDir: string): void {
  const weights = readLayersModelWeights(path.join(modelDir, 'vgg19', 'model.json'));
  assert.equal(weights.size, 32);
  VGG19_CONVS.forEach((conv, layer) => {
    const k = weights.get(`${conv.keras}/kernel`)!;
    const b = weights.get(`${conv.keras}/bias`)!;
    assert.deepEqual(k.shape, hwioShape(layer), conv.keras);
    assert.deepEqual(bytesOf(k.values), bytesOf(kernelHWIO(layer)), `${conv.keras} kernel`);
    assert.deepEqual(bytesOf(b.values), bytesOf(bias(layer)), `${conv.keras} bias`);
  });
}

function assertNothingInstalled(modelDir: string): void {
  assert.ok(!fs.existsSync(path.join(modelDir, 'vgg19')), 'no vgg19 folder');
  const left = fs.existsSync(modelDir) ? fs.readdirSync(modelDir).filter((n) => n.startsWith('.vgg19')) : [];
  assert.deepEqual(left, [], 'no partial folders left');
}

async function rejectsWith(fn: () => unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(async () => fn(), (err: unknown) => {
    assert.ok(err instanceof NstError, `expected an NstError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-models-import-'));
  fs.chmodSync(dir, 0o755);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('reading PyTorch files', () => {
  test('zip and legacy torch.save files give the same tensors; strides and dtypes are honoured', () => {
    const zip = readTorchVgg19(fixture('tiny-vgg19.pth'));
    const legacy = readTorchVgg19(fixture('tiny-vgg19-legacy.pth'));
    assert.equal(zip.format, 'torch.save zip');
    assert.equal(legacy.format, 'torch.save legacy');
    for (const r of [zip, legacy]) {
      r.convs.forEach((c, layer) => {
        assert.deepEqual(c.kernelShape, hwioShape(layer));
        assert.deepEqual([...c.kernel], [...kernelHWIO(layer)]);
        assert.deepEqual([...c.bias], [...bias(layer)]);
      });
    }
    const f = openTorchFile(fixture('tiny-vgg19.pth'));
    try {
      const t = stateDictTensors(f.value);
      const transposed = t.get('extra.transposed')!;
      assert.deepEqual(transposed.shape, [3, 2]);
      assert.deepEqual(transposed.stride, [1, 3]);
      assert.deepEqual([...tensorValues(transposed)], [0, 3, 1, 4, 2, 5]);
      assert.deepEqual([...tensorValues(t.get('extra.float16')!)], [0.5, -2, 65504, Math.fround(0.00010001659393310547)]);
      assert.deepEqual([...tensorValues(t.get('extra.bfloat16')!)], [1.5, -3, 0.10009765625]);
      assert.deepEqual([...tensorValues(t.get('extra.float64')!)], [0.25, Math.fround(1 / 3)]);
      assert.deepEqual(t.get('classifier.0.weight')!.shape, [3, 6]);
    } finally {
      f.close();
    }
    // A checkpoint wrapping a DataParallel state dict: {'state_dict': {'module.features.0.weight': …}}.
    const wrapped = readTorchVgg19(fixture('tiny-vgg19-wrapped.pth'));
    assert.deepEqual([...wrapped.convs[15].bias], [...bias(15)]);
  });
});

describe('nst models import (.pth)', () => {
  test('imports a state dict with exactly its values and records Caffe preprocessing', () => {
    const modelDir = freshDir();
    const r = importTorchPth(fixture('tiny-vgg19.pth'), { modelDir, preprocessing: 'caffe' });
    assertTinyValues(modelDir);
    const meta = readModelMetadata(path.join(modelDir, 'vgg19', MODEL_METADATA_FILE));
    assert.equal(meta.preprocessing, 'caffe');
    assert.equal(meta.source.kind, 'torch-pth');
    assert.equal(meta.source.format, 'torch.save zip');
    assert.equal(meta.source.sha256, digestFile(fixture('tiny-vgg19.pth')).sha256);
    assert.deepEqual(meta.weights.channels, CHANNELS);
    assert.equal(r.dir, path.join(modelDir, 'vgg19'));
    const net = Vgg19.load({ modelDir });
    try {
      assert.equal(net.preprocessing, 'caffe');
    } finally {
      net.dispose();
    }
  });

  test('the legacy format with torchvision preprocessing: Vgg19 preprocesses RGB/0-1/mean-std', () => {
    const modelDir = freshDir();
    importTorchPth(fixture('tiny-vgg19-legacy.pth'), { modelDir, preprocessing: 'torchvision' });
    assertTinyValues(modelDir);
    const net = Vgg19.load({ modelDir });
    try {
      assert.equal(net.preprocessing, 'torchvision');
      tidy(() => {
        const rgb = tensor(Float32Array.from([0.485, 1, 0.456, 0, 0.406, 0.5]), [1, 3, 1, 2]); // R, G, B planes of 2 pixels
        const x = net.preprocess(rgb).data();
        const expected = [0, (1 - 0.485) / 0.229, 0, (0 - 0.456) / 0.224, 0, (0.5 - 0.406) / 0.225];
        x.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]}`));
        const back = net.deprocess(net.preprocess(rgb)).data();
        back.forEach((v, i) => assert.ok(Math.abs(v - rgb.data()[i]) < 1e-6));
        assert.deepEqual([...toTorchvision(rgb).data()], [...x]);
        assert.ok(Math.abs(fromTorchvision(toTorchvision(rgb)).data()[1] - 1) < 1e-6);
      });
    } finally {
      net.dispose();
    }
  });

  test('the imported network computes what the original PyTorch layout computes', () => {
    const modelDir = freshDir();
    importTorchPth(fixture('tiny-vgg19.pth'), { modelDir, preprocessing: 'caffe' });
    const net = Vgg19.load({ modelDir });
    try {
      tidy(() => {
        const x = rand([1, 3, 32, 32]).mul(2).sub(1);
        const got = net.forward(x, ['relu5_4']).get('relu5_4')!;
        // The same network written directly with the OIHW kernels of the state dict.
        let h: Tensor = x;
        VGG19_CONVS.forEach((conv, layer) => {
          if (layer > 0 && VGG19_CONVS[layer - 1].keras.slice(0, 6) !== conv.keras.slice(0, 6)) h = maxPool2d(h, 2);
          const cin = layer === 0 ? 3 : CHANNELS[layer - 1];
          h = conv2d(h, tensor(kernelOIHW(layer), [CHANNELS[layer], cin, 3, 3]), tensor(bias(layer), [CHANNELS[layer]]), 1, 1).relu();
        });
        assert.deepEqual(got.shape, [1, 6, 2, 2]);
        const a = got.data();
        const b = h.data();
        a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-6 * (1 + Math.abs(b[i])), `${v} vs ${b[i]}`));
      });
    } finally {
      net.dispose();
    }
  });

  test('known files are recognised: neural-style-pt by name (Caffe); a damaged torchvision file is refused', async () => {
    const copies = path.join(dir, 'copies');
    fs.mkdirSync(copies, { recursive: true });
    const nsPt = path.join(copies, 'vgg19-d01eb7cb.pth');
    fs.copyFileSync(fixture('tiny-vgg19.pth'), nsPt);
    const modelDir = freshDir();
    importTorchPth(nsPt, { modelDir });
    const meta = readModelMetadata(path.join(modelDir, 'vgg19', MODEL_METADATA_FILE));
    assert.equal(meta.preprocessing, 'caffe');
    assert.match(meta.source.identified!, /neural-style-pt.*by its file name/);
    await rejectsWith(() => importTorchPth(nsPt, { modelDir: freshDir(), preprocessing: 'torchvision' }), /expects caffe preprocessing, not torchvision/);

    const tv = path.join(copies, 'vgg19-dcbb9e9d.pth');
    fs.copyFileSync(fixture('tiny-vgg19.pth'), tv);
    const tvDir = freshDir();
    await rejectsWith(() => importTorchPth(tv, { modelDir: tvDir }), /not the published vgg19-dcbb9e9d\.pth: its SHA-256 does not begin with dcbb9e9d/);
    assertNothingInstalled(tvDir);
    const unknownDir = freshDir();
    await rejectsWith(() => importTorchPth(fixture('tiny-vgg19.pth'), { modelDir: unknownDir }), /pass --preprocessing caffe .* or --preprocessing torchvision/);
    assertNothingInstalled(unknownDir);
  });

  test('other networks, VGG16, batch norm, missing layers and truncated files are one-line errors; nothing is installed', async () => {
    const cases: [string, RegExp][] = [
      ['tiny-resnet.pth', /is not a VGG19 state dict \(no features.<i>.weight entries; it has conv1.weight, bn1.weight/],
      ['tiny-vgg16.pth', /has 13 convolutions, VGG19 has 16 \(a VGG16\?\)/],
      ['tiny-vgg19-bn.pth', /batch normalisation \(vgg19_bn\)/],
      ['tiny-vgg19-missing.pth', /has 15 convolutions, VGG19 has 16; missing features\.34/],
    ];
    for (const [name, pattern] of cases) {
      const modelDir = freshDir();
      await rejectsWith(() => importTorchPth(fixture(name), { modelDir, preprocessing: 'caffe' }), pattern);
      assertNothingInstalled(modelDir);
    }
    for (const name of ['tiny-vgg19.pth', 'tiny-vgg19-legacy.pth']) {
      const bytes = fs.readFileSync(fixture(name));
      for (const cut of [0.3, 0.9]) {
        const truncated = path.join(dir, `truncated-${cut}-${name}`);
        fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * cut)));
        const modelDir = freshDir();
        await rejectsWith(() => importTorchPth(truncated, { modelDir, preprocessing: 'caffe' }), /truncated or damaged/);
        assertNothingInstalled(modelDir);
      }
    }
    const notTorch = path.join(dir, 'text.pth');
    fs.writeFileSync(notTorch, 'hello, not weights\n');
    await rejectsWith(() => importTorchPth(notTorch, { modelDir: freshDir(), preprocessing: 'caffe' }), /is not a PyTorch file/);
  });
});

describe('nst models import (.h5)', () => {
  for (const layout of ['keras1', 'keras2', 'keras3'] as const) {
    test(`a Keras ${layout} weights file is imported with exactly its values (Caffe preprocessing)`, async () => {
      const file = path.join(dir, `tiny-${layout}.h5`);
      await writeKerasH5(file, { layout, withTop: layout === 'keras1' });
      const modelDir = freshDir();
      const r = await importKerasH5(file, { modelDir });
      assertTinyValues(modelDir);
      assert.equal(r.metadata.preprocessing, 'caffe');
      assert.equal(r.metadata.source.format, 'HDF5');
      assert.match(r.metadata.source.identified!, /not the Keras applications file/);
      if (layout === 'keras1') assert.deepEqual(r.notes, ['the classifier layers (fc1, fc2, predictions) were ignored']);
    });
  }

  test('a non-HDF5 .h5, a truncated .h5, missing layers and Theano kernels are one-line errors', async () => {
    const fake = path.join(dir, 'fake.h5');
    fs.writeFileSync(fake, Buffer.alloc(4096, 7));
    const modelDir = freshDir();
    await rejectsWith(() => importKerasH5(fake, { modelDir }), /is not an HDF5 file \(no HDF5 signature\)/);
    const good = path.join(dir, 'good.h5');
    await writeKerasH5(good);
    const bytes = fs.readFileSync(good);
    const truncated = path.join(dir, 'truncated.h5');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejectsWith(() => importKerasH5(truncated, { modelDir }), /truncated or damaged/);
    const missing = path.join(dir, 'missing.h5');
    await writeKerasH5(missing, { omit: 'block5_conv4' });
    await rejectsWith(() => importKerasH5(missing, { modelDir }), /lacks layer block5_conv4 \(incomplete VGG19 weights\)/);
    const theano = path.join(dir, 'theano.h5');
    await writeKerasH5(theano, { channelsFirst: true });
    await rejectsWith(() => importKerasH5(theano, { modelDir }), /channels-first \(Theano\) kernels/);
    await rejectsWith(() => importKerasH5(good, { modelDir, preprocessing: 'torchvision' }), /expect Caffe preprocessing/);
    assertNothingInstalled(modelDir);
  });
});

describe('installed models are verified on every load', () => {
  test('a damaged shard or metadata file, or a replaced model without --force, is refused', async () => {
    const modelDir = freshDir();
    const h5 = path.join(dir, 'verify.h5');
    await writeKerasH5(h5);
    await importKerasH5(h5, { modelDir });
    await rejectsWith(() => importKerasH5(h5, { modelDir }), /already holds a VGG19; pass --force/);
    await importKerasH5(h5, { modelDir, force: true });
    assert.deepEqual(fs.readdirSync(modelDir).filter((n) => n.startsWith('.')), [], 'the old copy was removed');

    const vgg = path.join(modelDir, 'vgg19');
    const metaFile = path.join(vgg, MODEL_METADATA_FILE);
    const meta = fs.readFileSync(metaFile, 'utf8');
    fs.writeFileSync(metaFile, meta.replace('"preprocessing": "caffe"', '"preprocessing": "torchvision"'));
    await rejectsWith(() => Vgg19.load({ modelDir }), /nst-model\.json is damaged \(SHA-256 mismatch with SHA256SUMS\)/);
    fs.writeFileSync(metaFile, meta);
    const shard = path.join(vgg, 'group1-shard1of1.bin');
    const data = fs.readFileSync(shard);
    data[100] ^= 1;
    fs.writeFileSync(shard, data);
    await rejectsWith(() => Vgg19.load({ modelDir }), /is damaged \(SHA-256 mismatch with SHA256SUMS\)/);
    const listed = listInstalledModels(modelDir).models.find((m) => m.name === 'vgg19')!;
    assert.equal(listed.checksums.status, 'damaged');
    data[100] ^= 1;
    fs.writeFileSync(shard, data);
    assert.equal(listInstalledModels(modelDir).models.find((m) => m.name === 'vgg19')!.checksums.status, 'ok');
    // Shapes: a model.json whose layers do not chain (no SHA256SUMS to catch it first).
    fs.rmSync(path.join(vgg, 'SHA256SUMS'));
    const modelJson = JSON.parse(fs.readFileSync(path.join(vgg, 'model.json'), 'utf8'));
    const weights = modelJson.weightsManifest[0].weights;
    const k = weights.find((w: { name: string }) => w.name === 'block1_conv2/kernel');
    k.shape = [3, 3, 1, 4]; // same size, wrong input channels
    fs.writeFileSync(path.join(vgg, 'model.json'), JSON.stringify(modelJson));
    await rejectsWith(() => Vgg19.load({ modelDir }), /block1_conv2 has shape \[3,3,1,4\], expected \[3,3,2,out\]/);
  });
});

describe('nst models import / list (CLI)', () => {
  test('imports, lists with provenance, and gives one-line errors with exit code 2', () => {
    const modelDir = freshDir();
    const ok = nst(['models', 'import', fixture('tiny-vgg19-legacy.pth'), '--preprocessing', 'torchvision', '--model-dir', modelDir]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^installed vgg19 in .*vgg19 \(16 layers, 2,\d{3} parameters, .* KiB, channels 2,2,3,3/m);
    assert.match(ok.stdout, /preprocessing: torchvision \(RGB, 0–1/);
    const list = nst(['models', 'list', '--model-dir', modelDir]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /vgg19 {2}\[in use\]/);
    assert.match(list.stdout, /checksums: ok \(\d+ files match SHA256SUMS\) \| preprocessing: torchvision/);
    assert.match(list.stdout, /provenance: VGG19 state dict .*tiny-vgg19-legacy\.pth/);
    const json = JSON.parse(nst(['models', 'list', '--model-dir', modelDir, '--json']).stdout);
    assert.equal(json.models[0].preprocessing, 'torchvision');

    const bad: [string[], RegExp][] = [
      [['models', 'import', fixture('tiny-resnet.pth'), '--preprocessing', 'caffe'], /not a VGG19 state dict/],
      [['models', 'import', path.join(dir, 'nope.h5')], /cannot read .*nope\.h5: no such file/],
      [['models', 'import', fixture('tiny-vgg19.pth'), '--preprocessing', 'bgr'], /--preprocessing must be one of caffe, torchvision/],
      [['models', 'fetch', 'resnet50'], /unknown model 'resnet50'/],
    ];
    const fake = path.join(dir, 'cli-fake.h5');
    fs.writeFileSync(fake, 'not hdf5 at all');
    bad.push([['models', 'import', fake], /cli-fake\.h5 is not an HDF5 file/]);
    for (const [args, pattern] of bad) {
      const target = freshDir();
      const r = nst([...args, '--model-dir', target]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^nst: error: /);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assertNothingInstalled(target);
    }
  });

  test('a read-only model directory is a one-line error and nothing is written', () => {
    const parent = path.join(dir, 'readonly');
    fs.mkdirSync(parent, { mode: 0o755 });
    const target = path.join(parent, 'models');
    const asRoot = process.getuid?.() === 0;
    // Root writes anywhere: run the command as 'nobody' instead; otherwise take write permission away.
    if (!asRoot) fs.chmodSync(parent, 0o555);
    try {
      const r = nst(['models', 'import', fixture('tiny-vgg19.pth'), '--preprocessing', 'caffe', '--model-dir', target], asRoot ? { uid: 65534, gid: 65534 } : {});
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^nst: error: cannot write to the model directory .*readonly\/models \(permission denied\); choose another with --model-dir/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(!fs.existsSync(target));
    } finally {
      fs.chmodSync(parent, 0o755);
    }
  });
});

/** The real source files, where a developer has them (never downloaded by the tests). */
function realSource(kind: 'h5' | 'pth'): string | undefined {
  const home = os.homedir();
  const candidates =
    kind === 'h5'
      ? [process.env.NST_VGG19_H5, path.join(home, '.keras', 'models', KERAS_VGG19_NOTOP.file), path.join(MODELS_DIR, 'sources', KERAS_VGG19_NOTOP.file)]
      : [process.env.NST_VGG19_PTH, path.join(PROJECT_ROOT, 'models', 'vgg19-d01eb7cb.pth'), path.join(MODELS_DIR, 'sources', 'vgg19-d01eb7cb.pth')];
  return candidates.find((f): f is string => !!f && fs.existsSync(f));
}

describe('the real VGG19 converted from its source matches ../shared/models/vgg19', () => {
  const sharedModel = path.join(MODELS_DIR, 'vgg19', 'model.json');
  test('full size: the shared VGG19 written as a Keras 1 .h5 and imported back is identical', { skip: fs.existsSync(sharedModel) ? false : `${sharedModel} is not at hand` }, async () => {
    const shared = readLayersModelWeights(sharedModel);
    const file = path.join(dir, KERAS_VGG19_NOTOP.file);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const h5: any = await loadH5wasm();
    const f = new h5.File(file, 'w');
    for (const conv of VGG19_CONVS) {
      f.create_group(conv.keras);
      const g = f.get(conv.keras);
      const names = [`${conv.keras}_W_1:0`, `${conv.keras}_b_1:0`];
      for (const [i, part] of (['kernel', 'bias'] as const).entries()) {
        const w = shared.get(`${conv.keras}/${part}`)!;
        g.create_dataset({ name: names[i], data: w.values, shape: w.shape, dtype: '<f' });
      }
      g.create_attribute('weight_names', names);
    }
    f.close();
    const modelDir = freshDir();
    const r = await importKerasH5(file, { modelDir });
    fs.rmSync(file);
    assert.equal(r.metadata.weights.parameters, 20024384);
    assert.deepEqual(r.metadata.weights.channels, VGG19_CONVS.map((c) => c.channels));
    const back = readLayersModelWeights(path.join(modelDir, 'vgg19', 'model.json'));
    for (const [name, w] of shared) assert.ok(bytesOf(w.values).equals(bytesOf(back.get(name)!.values)), name);
    const net = Vgg19.load({ modelDir, upTo: 'relu1_1' });
    net.dispose();
    fs.rmSync(modelDir, { recursive: true });
  });

  for (const kind of ['h5', 'pth'] as const) {
    const source = realSource(kind);
    const what = kind === 'h5' ? `Keras ${KERAS_VGG19_NOTOP.file} (set NST_VGG19_H5)` : "neural-style-pt's vgg19-d01eb7cb.pth (set NST_VGG19_PTH)";
    test(`converted ${kind} gives the same activations`, { skip: source ? false : `${what} is not at hand` }, async () => {
      const modelDir = freshDir();
      if (kind === 'h5') await importKerasH5(source!, { modelDir });
      else importTorchPth(source!, { modelDir, preprocessing: 'caffe' });
      // Blocks 1–3 and every bias of the shared model are exact float32 copies (its provenance.json).
      const ours = readLayersModelWeights(path.join(modelDir, 'vgg19', 'model.json'));
      const shared = readLayersModelWeights(path.join(MODELS_DIR, 'vgg19', 'model.json'));
      for (const conv of VGG19_CONVS.filter((c) => /^block[123]_/.test(c.keras))) {
        assert.deepEqual(bytesOf(ours.get(`${conv.keras}/kernel`)!.values), bytesOf(shared.get(`${conv.keras}/kernel`)!.values), conv.keras);
      }
      const a = Vgg19.load({ modelDir, upTo: 'relu5_1' });
      const b = Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu5_1' });
      try {
        tidy(() => {
          const x = toCaffe(rand([1, 3, 64, 64]));
          const fa = a.forward(x, ['relu3_1', 'relu5_1']);
          const fb = b.forward(x, ['relu3_1', 'relu5_1']);
          const rel = (l: string) => fa.get(l)!.sub(fb.get(l)!).norm().item() / fb.get(l)!.norm().item();
          assert.ok(rel('relu3_1') < 1e-5, `relu3_1 relative difference ${rel('relu3_1')}`);
          // Blocks 4–5 of the shared model are partly dequantized from 8 bits (1–3 % feature error).
          assert.ok(rel('relu5_1') < 0.05, `relu5_1 relative difference ${rel('relu5_1')}`);
        });
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }
});
