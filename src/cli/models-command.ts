/**
 * `nst models`: list, fetch and import model weights.
 *   nst models list                 what is installed, where (the search order), size, checksums, provenance
 *   nst models fetch vgg19          download Keras's VGG19 notop weights, verify, convert, install
 *   nst models import FILE          convert a Keras .h5 or a PyTorch .pth VGG19 you already have
 * fetch and import install into --model-dir, else $NST_MODEL_DIR, else the user's model directory
 * (~/.cache/nst/models); see docs/models.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { NstError } from '../errors';
import { fetchVgg19 } from '../models/fetch';
import { importKerasH5, isHdf5File } from '../models/import-keras-h5';
import { importTorchPth } from '../models/import-torch-pth';
import { installModelDir } from '../models/model-dir';
import { InstallResult, listInstalledModels, ModelListing } from '../models/model-registry';
import { describePreprocessing, Preprocessing, PREPROCESSINGS } from '../models/preprocess';
import { parseChoice, parseInteger } from './parse';

const FETCHABLE = ['vgg19'] as const;

export function modelsCommand(): Command {
  const models = new Command('models').description('list, fetch and import model weights (VGG19, style networks)');
  models.addCommand(
    new Command('list')
      .description('what is installed, where (in search order), size, checksum status and provenance')
      .option('--model-dir <dir>', 'list only this directory')
      .option('--json', 'print JSON')
      .option('--no-verify', 'skip checking files against SHA256SUMS')
      .action((opts: { modelDir?: string; json?: boolean; verify: boolean }) => {
        const listing = listInstalledModels(opts.modelDir, { verify: opts.verify });
        if (opts.json) process.stdout.write(JSON.stringify(listing, null, 1) + '\n');
        else process.stdout.write(formatListing(listing));
      })
      .exitOverride(),
  );
  models.addCommand(
    new Command('fetch')
      .description("download a model's weights, verify them and install them (vgg19: Keras's ImageNet VGG19 notop)")
      .argument('<name>', `model to fetch (${FETCHABLE.join(', ')})`)
      .option('--url <url>', 'download from this URL instead (default: $NST_MODEL_MIRROR/<file>, else the official location)')
      .option('--sha256 <hex>', 'expect this SHA-256 instead of the pinned size and MD5 (for a copy you have checked)')
      .option('--model-dir <dir>', 'install here (default: $NST_MODEL_DIR, else ~/.cache/nst/models)')
      .option('--force', 'fetch and replace an installed model')
      .option('--keep-download', 'keep the downloaded file beside the model')
      .option('--retries <n>', 'resume attempts after a dropped connection', parseInteger('retries'), 3)
      .action(async (name: string, opts: { url?: string; sha256?: string; modelDir?: string; force?: boolean; keepDownload?: boolean; retries: number }) => {
        if (!FETCHABLE.includes(name as (typeof FETCHABLE)[number])) {
          throw new NstError(`unknown model '${name}' (nst models fetch knows: ${FETCHABLE.join(', ')}; style networks: see 'nst styles')`);
        }
        if (opts.retries < 0) throw new NstError('--retries must be at least 0');
        const progress = new ByteProgress('vgg19');
        let result;
        try {
          result = await fetchVgg19({
            modelDir: opts.modelDir,
            url: opts.url,
            sha256: opts.sha256,
            force: opts.force,
            keepDownload: opts.keepDownload,
            retries: opts.retries,
            onProgress: (received, total) => progress.update(received, total),
            onLog: (line) => progress.log(line),
          });
        } finally {
          progress.stop();
        }
        if (result.alreadyInstalled) {
          process.stdout.write(`vgg19 is already installed in ${result.dir} (--force to fetch it again)\n`);
          return;
        }
        const d = result.download;
        process.stderr.write(
          `downloaded ${d.url} (${mib(d.bytes)}${d.resumedFrom > 0 ? `, resumed at ${mib(d.resumedFrom)}` : ''}; checked: ${d.checked}; sha256 ${d.sha256})\n`,
        );
        reportInstall(result.installed, []);
        if (result.kept) process.stdout.write(`kept the download as ${result.kept}\n`);
      })
      .exitOverride(),
  );
  models.addCommand(
    new Command('import')
      .description('convert a VGG19 weights file you have (Keras .h5, PyTorch .pth state dict) and install it')
      .argument('<file>', 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, vgg19-dcbb9e9d.pth, vgg19-d01eb7cb.pth, …')
      .option('--preprocessing <kind>', `input convention of the weights (${PREPROCESSINGS.join(' or ')}); needed for unknown .pth files`, parseChoice('preprocessing', PREPROCESSINGS))
      .option('--model-dir <dir>', 'install here (default: $NST_MODEL_DIR, else ~/.cache/nst/models)')
      .option('--force', 'replace an installed model')
      .action(async (file: string, opts: { preprocessing?: Preprocessing; modelDir?: string; force?: boolean }) => {
        const modelDir = installModelDir(opts.modelDir);
        const kind = sniff(file);
        const result =
          kind === 'hdf5'
            ? await importKerasH5(file, { modelDir, force: opts.force, preprocessing: opts.preprocessing })
            : importTorchPth(file, { modelDir, force: opts.force, preprocessing: opts.preprocessing });
        reportInstall(result, result.notes);
      })
      .exitOverride(),
  );
  return models;
}

/** 'hdf5' or 'torch' from the file's first bytes; a one-line error for anything else. */
function sniff(file: string): 'hdf5' | 'torch' {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      if (!fs.fstatSync(fd).isFile()) throw new NstError(`${file} is not a file`);
      head = Buffer.alloc(8);
      head = head.subarray(0, fs.readSync(fd, head, 0, 8, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err instanceof NstError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new NstError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  if (isHdf5File(file)) return 'hdf5';
  const ext = path.extname(file).toLowerCase();
  if (['.h5', '.hdf5', '.keras'].includes(ext)) throw new NstError(`${file} is not an HDF5 file (no HDF5 signature); expected a Keras .h5 weights file`);
  if ((head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b) || head[0] === 0x80) return 'torch';
  if (head.length === 0) throw new NstError(`${file} is empty`);
  throw new NstError(`${file} is neither a Keras .h5 (HDF5) nor a PyTorch .pth (torch.save) file`);
}

function reportInstall(r: InstallResult, notes: string[]): void {
  const m = r.metadata;
  const standard = m.weights.channels.join(',') === '64,64,128,128,256,256,256,256,512,512,512,512,512,512,512,512';
  process.stdout.write(
    `installed vgg19 in ${r.dir} (${m.weights.layers} layers, ${m.weights.parameters.toLocaleString('en-US')} parameters, ${mib(r.bytes)}` +
      `${standard ? '' : `, channels ${m.weights.channels.join(',')}`})\n` +
      `  from ${m.source.file}: ${m.source.identified ?? m.source.kind} (${m.source.format ?? m.source.kind}, sha256 ${m.source.sha256})\n` +
      `  preprocessing: ${m.preprocessing} (${describePreprocessing(m.preprocessing)})\n`,
  );
  for (const note of notes) process.stdout.write(`  note: ${note}\n`);
  // Say so when a VGG19 earlier in the search order would still be the one used.
  const inUse = listInstalledModels(undefined, { verify: false }).models.find((x) => x.name === 'vgg19' && x.inUse);
  if (inUse && path.resolve(inUse.path) !== path.resolve(r.dir)) {
    const modelDir = path.dirname(r.dir);
    process.stdout.write(`  note: ${inUse.path} comes first in the search order; use this one with --model-dir ${modelDir} or NST_MODEL_DIR=${modelDir}\n`);
  }
}

export function formatListing(listing: ModelListing): string {
  const lines: string[] = ['model directories, in search order:'];
  listing.searchOrder.forEach((c, i) => lines.push(`  ${i + 1}. ${c.dir}  (${c.origin})${c.exists ? '' : '  [absent]'}`));
  lines.push('');
  if (listing.models.length === 0) {
    lines.push("no models installed; get VGG19 with 'nst models fetch vgg19' or 'nst models import FILE'");
  }
  for (const m of listing.models) {
    lines.push(`${m.name}${m.inUse ? '  [in use]' : '  [shadowed by an earlier directory]'}  ${m.path}`);
    const status = m.checksums.status === 'none' ? m.checksums.detail : `${m.checksums.status} (${m.checksums.detail})`;
    lines.push(`    size ${mib(m.bytes)} | checksums: ${status}${m.preprocessing ? ` | preprocessing: ${m.preprocessing}` : ''}`);
    lines.push(`    provenance: ${m.provenance}`);
  }
  if (!listing.models.some((m) => m.name === 'vgg19')) {
    if (listing.models.length) lines.push("no VGG19 installed; get it with 'nst models fetch vgg19' or 'nst models import FILE'");
  }
  return lines.join('\n') + '\n';
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Download progress: a live bar on a terminal, a line every 10 % otherwise. */
class ByteProgress {
  private bar: SingleBar | null = null;
  private lastTenth = -1;
  private readonly tty = !!process.stderr.isTTY;
  private started = Date.now();

  constructor(private readonly label: string) {}

  update(received: number, total: number | undefined): void {
    if (this.tty) {
      if (!this.bar) {
        this.started = Date.now();
        this.bar = new SingleBar({
          stream: process.stderr,
          format: `${this.label} [{bar}] {percentage}% | {done} / {all} | {speed} | ETA {eta_formatted}`,
          barsize: 24,
          hideCursor: true,
          etaBuffer: 50,
        });
        this.bar.start(total ?? 0, received, { done: mib(received), all: total ? mib(total) : '?', speed: '' });
      }
      const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3);
      if (total && this.bar.getTotal() !== total) this.bar.setTotal(total);
      this.bar.update(received, { done: mib(received), all: total ? mib(total) : '?', speed: `${mib(received / seconds)}/s` });
      return;
    }
    const tenth = total ? Math.floor((received / total) * 10) : Math.floor(received / (8 * 1024 * 1024));
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      process.stderr.write(`${this.label}: ${mib(received)}${total ? ` of ${mib(total)} (${Math.floor((received / total) * 100)}%)` : ''}\n`);
    }
  }

  log(line: string): void {
    process.stderr.write(this.bar ? `\n${line}\n` : `${line}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
