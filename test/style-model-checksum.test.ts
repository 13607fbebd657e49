/**
 * The style model format's checksum: every load verifies the SHA-256 of the tensor data, so a
 * file whose weights were corrupted into other finite values is refused with one line (CLI exit
 * 2) instead of loading silently and painting garbage. Files of format version 1 (no checksum)
 * still load, and resealStyleModel gives them one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NstError } from '../src/errors';
import { architectureOf, parameterShapes } from '../src/models/transformer-net';
import { loadStyleModel, readStyleModel, resealStyleModel, STYLE_MODEL_FORMAT, STYLE_MODEL_VERSION, StyleModelMetadata, writeStyleModel } from '../src/models/style-model-format';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { REFERENCE_DIR } from './helpers/reference';

let dir: string;
const t = (name: string) => path.join(dir, name);
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-sum-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const metadata: StyleModelMetadata = {
  format: STYLE_MODEL_FORMAT,
  version: STYLE_MODEL_VERSION,
  architecture: architectureOf('johnson-upsample'),
  style: { name: 'test' },
  created: new Date(0).toISOString(),
  software: 'test',
};

function weights(): Map<string, { shape: number[]; values: Float32Array }> {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const { name, shape } of parameterShapes('johnson-upsample')) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(rand);
    if (name.endsWith('norm.scale')) values.fill(1);
    out.set(name, { shape, values });
  }
  return out;
}

/** Overwrites one float of the data section with another finite value. */
function corrupt(file: string, index = 1000): void {
  const buf = fs.readFileSync(file);
  const dataStart = 8 + Number(buf.readBigUInt64LE(0));
  const at = dataStart + 4 * index;
  buf.writeFloatLE(buf.readFloatLE(at) + 0.25, at);
  fs.writeFileSync(file, buf);
}

function header(file: string): Record<string, any> {
  const buf = fs.readFileSync(file);
  return JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8'));
}

test('a written model carries the SHA-256 of its data; a corrupted but finite value is refused on load', () => {
  writeStyleModel(t('good.safetensors'), metadata, weights());
  const meta = header(t('good.safetensors')).__metadata__;
  assert.equal(meta.version, '2');
  assert.match(meta.sha256, /^[0-9a-f]{64}$/);
  assert.equal(loadStyleModel(t('good.safetensors')).net.architecture.variant, 'johnson-upsample');

  fs.copyFileSync(t('good.safetensors'), t('bad.safetensors'));
  corrupt(t('bad.safetensors'));
  const values = [...readStyleModelUnchecked(t('bad.safetensors'))];
  assert.ok(values.every(Number.isFinite), 'the corrupted file holds only finite values');
  assert.throws(() => loadStyleModel(t('bad.safetensors')), (err: unknown) => {
    assert.ok(err instanceof NstError);
    assert.match(err.message, /bad\.safetensors is not a valid style model: checksum mismatch: the weights are corrupted \(SHA-256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\)$/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  // A version 2 file without its checksum is refused too.
  const h = header(t('good.safetensors'));
  delete h.__metadata__.sha256;
  writeRaw(t('nosum.safetensors'), h, fs.readFileSync(t('good.safetensors')).subarray(8 + Number(fs.readFileSync(t('good.safetensors')).readBigUInt64LE(0))));
  assert.throws(() => readStyleModel(t('nosum.safetensors')), /lacks a valid __metadata__\.sha256 checksum/);
});

test('the CLI refuses a corrupted model with one line and exit code 2', () => {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'nst.js'), 'fast', '--model', t('bad.safetensors'), '--content', path.join(REFERENCE_DIR, 'content.png'), '--output', t('x.png'), '--size', '32'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^nst: error: .*checksum mismatch: the weights are corrupted.*\n$/);
  assert.equal(fs.existsSync(t('x.png')), false);
});

test('a version 1 file (no checksum) still loads, and resealStyleModel gives it one', () => {
  const good = fs.readFileSync(t('good.safetensors'));
  const h = header(t('good.safetensors'));
  delete h.__metadata__.sha256;
  h.__metadata__.version = '1';
  h.__metadata__.nst = JSON.stringify({ ...JSON.parse(h.__metadata__.nst), version: 1 });
  writeRaw(t('v1.safetensors'), h, good.subarray(8 + Number(good.readBigUInt64LE(0))));
  assert.equal(loadStyleModel(t('v1.safetensors')).net.architecture.variant, 'johnson-upsample');
  assert.equal(resealStyleModel(t('v1.safetensors')), true);
  assert.equal(resealStyleModel(t('v1.safetensors')), false, 'already sealed');
  assert.equal(header(t('v1.safetensors')).__metadata__.sha256, header(t('good.safetensors')).__metadata__.sha256);
  corrupt(t('v1.safetensors'), 5);
  assert.throws(() => loadStyleModel(t('v1.safetensors')), /checksum mismatch/);
});

function writeRaw(file: string, head: object, data: Buffer): void {
  let json = Buffer.from(JSON.stringify(head), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - ((8 + json.length) % 8)) % 8, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([prefix, json, data]));
}

function readStyleModelUnchecked(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  const start = 8 + Number(buf.readBigUInt64LE(0));
  const data = buf.subarray(start);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}
