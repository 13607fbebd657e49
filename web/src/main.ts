/**
 * The page: choose a photo and a painting (upload, drag and drop, or a sample), pick a method and
 * settings, start, watch it paint (preview + loss chart over Server-Sent Events), download, and
 * browse the gallery of past results. The in-browser mode runs the fast styles with TF.js.
 */
import {
  ApiError,
  cancelJob,
  createJob,
  deleteJob,
  getOptions,
  getSamples,
  getStyles,
  Job,
  listJobs,
  LossRow,
  Sample,
  ServerOptions,
  StyleInfo,
  watchJob,
} from './api.js';
import { LossChart } from './chart.js';
import { chooseBackend, StyleNet } from './fast-net.js';

type Role = 'content' | 'style';
type Method = 'stylize' | 'fast' | 'browser';

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;
const rel = (url: string) => url.replace(/^\//, '');

const state = {
  files: { content: null as File | null, style: null as File | null },
  samples: { content: null as string | null, style: null as string | null },
  options: null as ServerOptions | null,
  styles: [] as StyleInfo[],
  job: null as Job | null,
  stopWatching: null as (() => void) | null,
  net: null as StyleNet | null,
  webcam: null as MediaStream | null,
};

const els = {
  status: $<HTMLParagraphElement>('#status'),
  progress: $<HTMLProgressElement>('#progress'),
  preview: $<HTMLImageElement>('#preview'),
  browserOut: $<HTMLCanvasElement>('#browser-output'),
  video: $<HTMLVideoElement>('#video'),
  caption: $<HTMLElement>('#caption'),
  start: $<HTMLButtonElement>('#start'),
  cancel: $<HTMLButtonElement>('#cancel'),
  download: $<HTMLAnchorElement>('#download'),
  report: $<HTMLAnchorElement>('#report'),
  size: $<HTMLSelectElement>('#size'),
  preset: $<HTMLSelectElement>('#preset'),
  quality: $<HTMLSelectElement>('#quality'),
  iterations: $<HTMLInputElement>('#iterations'),
  strength: $<HTMLInputElement>('#strength'),
  strengthValue: $<HTMLOutputElement>('#strength-value'),
  preserve: $<HTMLSelectElement>('#preserve-colors'),
  fastStyle: $<HTMLSelectElement>('#fast-style'),
  backend: $<HTMLSelectElement>('#backend'),
  gallery: $<HTMLDivElement>('#gallery'),
  webcamStart: $<HTMLButtonElement>('#webcam-start'),
  webcamStop: $<HTMLButtonElement>('#webcam-stop'),
};
const chart = new LossChart($<HTMLCanvasElement>('#chart'));

function method(): Method {
  return ($<HTMLInputElement>('input[name="method"]:checked')?.value ?? 'stylize') as Method;
}

/** Counters on <body data-…> that show what the page has seen (handy when testing it). */
function bump(name: string): void {
  document.body.dataset[name] = String(Number(document.body.dataset[name] ?? 0) + 1);
}

function setStatus(text: string, error = false): void {
  els.status.textContent = text;
  els.status.classList.toggle('error', error);
}

/** Strength slider (0–200, 100 = default) → style weight 10…1000 (log) or a blend 0…1. */
function strengthValue(): { styleWeight: number; blend: number } {
  const s = Number(els.strength.value);
  return { styleWeight: Number((100 * 10 ** ((s - 100) / 100)).toPrecision(3)), blend: Math.min(s, 100) / 100 };
}

function updateStrengthLabel(): void {
  const { styleWeight, blend } = strengthValue();
  els.strengthValue.textContent = method() === 'stylize' ? `style weight ${styleWeight}` : `${Math.round(blend * 100)} %`;
}

function updateMethod(): void {
  const m = method();
  document.querySelectorAll<HTMLElement>('.for-stylize').forEach((e) => (e.hidden = m !== 'stylize'));
  if (m !== 'stylize' && els.preserve.value === 'histogram') els.preserve.value = 'none';
  document.querySelectorAll<HTMLElement>('.for-browser').forEach((e) => (e.hidden = m !== 'browser'));
  $<HTMLElement>('#slot-style .for-style').hidden = m !== 'stylize';
  $<HTMLElement>('#slot-style .for-fast').hidden = m === 'stylize';
  $<HTMLElement>('#slot-style h2').textContent = m === 'stylize' ? '2. A painting' : '2. A trained style';
  updateStrengthLabel();
}

// ---------------------------------------------------------------------------------------------
// Choosing images

function showChoice(role: Role, url: string, label: string): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const img = $<HTMLImageElement>('.drop img.chosen', slot);
  img.src = url;
  img.hidden = false;
  $<HTMLElement>('.chosen-name', slot).textContent = label;
  slot.querySelectorAll<HTMLButtonElement>('.samples button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.id === state.samples[role])));
}

function chooseFile(role: Role, file: File): void {
  if (!file.type.startsWith('image/') && file.type !== '') {
    setStatus(`${file.name} does not look like an image`, true);
    return;
  }
  state.files[role] = file;
  state.samples[role] = null;
  showChoice(role, URL.createObjectURL(file), `${file.name} (${Math.round(file.size / 1024)} KiB)`);
}

function chooseSample(role: Role, sample: Sample): void {
  state.samples[role] = sample.id;
  state.files[role] = null;
  showChoice(role, `${rel(sample.url)}?size=512`, `sample: ${sample.name}`);
}

function setUpSlot(role: Role): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const input = $<HTMLInputElement>(`#${role}-file`);
  input.addEventListener('change', () => {
    if (input.files?.[0]) chooseFile(role, input.files[0]);
  });
  const drop = $<HTMLElement>('.drop', slot);
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) chooseFile(role, file);
  });
}

function renderSamples(samples: Sample[]): void {
  for (const role of ['content', 'style'] as Role[]) {
    const box = $<HTMLElement>(`#${role}-samples`);
    box.replaceChildren();
    for (const s of samples.filter((x) => x.kind === role)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.id = s.id;
      b.title = s.name;
      b.setAttribute('aria-pressed', 'false');
      const img = document.createElement('img');
      img.src = `${rel(s.url)}?size=160`;
      img.alt = s.name;
      img.loading = 'lazy';
      b.append(img);
      b.addEventListener('click', () => chooseSample(role, s));
      box.append(b);
    }
    if (!box.children.length) box.textContent = 'no samples on this server';
  }
}

// ---------------------------------------------------------------------------------------------
// Server jobs

async function startServerJob(m: 'stylize' | 'fast'): Promise<void> {
  const form = new FormData();
  form.append('method', m);
  const roles: Role[] = m === 'stylize' ? ['content', 'style'] : ['content'];
  for (const role of roles) {
    const file = state.files[role];
    if (file) form.append(role, file, file.name);
    else if (state.samples[role]) form.append(`${role}Sample`, state.samples[role]!);
    else throw new Error(role === 'content' ? 'choose a photo first' : 'choose a painting first');
  }
  form.append('size', els.size.value);
  if (els.preserve.value !== 'none') form.append('preserveColors', els.preserve.value);
  const { styleWeight, blend } = strengthValue();
  if (m === 'stylize') {
    form.append('quality', els.quality.value);
    form.append('preset', els.preset.value);
    if (els.iterations.value) form.append('iterations', els.iterations.value);
    form.append('styleWeight', String(styleWeight));
  } else {
    if (!els.fastStyle.value) throw new Error('no trained style on this server');
    form.append('fastStyle', els.fastStyle.value);
    form.append('strength', String(blend));
  }
  setStatus('uploading…');
  const job = await createJob(form);
  follow(job);
  refreshGallery();
}

/** Shows a job in the result area and follows its events until it ends. */
function follow(job: Job): void {
  state.stopWatching?.();
  state.job = job;
  els.browserOut.hidden = true;
  els.video.hidden = true;
  els.download.hidden = true;
  els.report.hidden = true;
  els.preview.hidden = true;
  chart.reset();
  els.progress.value = 0;
  els.caption.textContent = describe(job);
  const running = job.status === 'queued' || job.status === 'running';
  els.cancel.disabled = !running;
  if (!running) {
    showEnded(job);
    fetch(rel(job.links.report)).then((r) => r.json()).then((rep) => chart.reset(rep.lossHistory?.rows ?? []), () => undefined);
    return;
  }
  setStatus(job.status === 'queued' ? `queued${job.queuePosition ? ` (position ${job.queuePosition})` : ''}…` : 'starting…');
  state.stopWatching = watchJob(job.id, {
    onSnapshot: (j, history: LossRow[]) => {
      chart.reset(history);
      if (j.checkpointIteration) showPreview(`${rel(j.links.preview)}?iteration=${j.checkpointIteration}`);
      if (j.progress) showProgress(j.progress.iteration, j.progress.iterations, j.progress.etaSeconds, j.progress.losses?.total ?? null);
    },
    onStatus: (status) => {
      if (status === 'running') setStatus('painting…');
    },
    onProgress: (p) => {
      bump('progressEvents');
      if (p.losses) chart.push([p.iteration, p.losses.content, p.losses.style, p.losses.tv, p.losses.total]);
      showProgress(p.iteration, p.iterations, p.etaSeconds, p.losses?.total ?? null);
    },
    onPreview: (_iteration, url) => {
      bump('previewEvents');
      showPreview(url);
    },
    onEnd: (j) => {
      state.stopWatching = null;
      showEnded(j);
      refreshGallery();
    },
    onError: (message) => setStatus(message, true),
  });
}

function showProgress(iteration: number, iterations: number, eta: number, total: number | null): void {
  els.progress.max = iterations;
  els.progress.value = iteration;
  const loss = total === null ? '' : ` · loss ${total.toExponential(3)}`;
  const etaText = Number.isFinite(eta) && iteration < iterations ? ` · about ${formatSeconds(eta)} left` : '';
  setStatus(`iteration ${iteration} / ${iterations}${loss}${etaText}`);
}

function showPreview(url: string): void {
  els.preview.src = url;
  els.preview.hidden = false;
}

function showEnded(job: Job): void {
  els.cancel.disabled = true;
  if ((job.status as string) === 'deleted') {
    setStatus('the job was deleted');
    return;
  }
  if (job.result) {
    showPreview(`${rel(job.result.url)}?v=${encodeURIComponent(job.finishedAt ?? '')}`);
    els.download.href = `${rel(job.result.url)}?download`;
    els.download.hidden = false;
    els.progress.max = 1;
    els.progress.value = 1;
  }
  els.report.href = rel(job.links.report);
  els.report.hidden = false;
  const seconds = job.result ? ` in ${formatSeconds(job.result.seconds)}` : '';
  const text: Record<string, string> = {
    succeeded: `done${seconds}: ${job.result?.width}×${job.result?.height}`,
    cancelled: job.result ? 'cancelled — the image so far is kept' : 'cancelled',
    failed: `failed: ${job.error ?? 'unknown error'}`,
    interrupted: job.error ?? 'interrupted',
  };
  setStatus(text[job.status] ?? job.status, job.status === 'failed');
}

function describe(job: Job): string {
  const p = job.params;
  const parts = [job.method === 'stylize' ? 'optimisation' : `fast (${p.fastStyle})`, `${p.size} px`];
  if (job.method === 'stylize') parts.push(`${p.iterations} iterations`, `preset ${p.preset}`, `style weight ${p.styleWeight}`);
  else if (p.strength !== 1) parts.push(`strength ${Math.round(Number(p.strength) * 100)} %`);
  if (p.preserveColors === 'histogram') parts.push('painting recoloured');
  else if (p.preserveColors && p.preserveColors !== 'none') parts.push("photo's colours");
  return parts.join(' · ');
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}

// ---------------------------------------------------------------------------------------------
// In-browser fast mode

async function browserNet(): Promise<StyleNet> {
  const name = els.fastStyle.value;
  const style = state.styles.find((s) => s.name === name);
  if (!style) throw new Error('no trained style on this server');
  if (typeof tf === 'undefined') throw new Error('TensorFlow.js did not load');
  const backend = await chooseBackend(els.backend.value);
  if (state.net?.name !== name) {
    setStatus(`loading the '${name}' network (${backend})…`);
    state.net?.dispose();
    state.net = null;
    state.net = await StyleNet.load(name, rel(style.weights));
  }
  return state.net;
}

async function startInBrowser(): Promise<void> {
  state.stopWatching?.();
  state.stopWatching = null;
  let source: HTMLImageElement;
  if (state.files.content) source = await loadImageElement(URL.createObjectURL(state.files.content));
  else if (state.samples.content) source = await loadImageElement(`api/samples/${state.samples.content}?size=1024`);
  else throw new Error('choose a photo first');
  const net = await browserNet();
  setStatus(`painting in the browser (${tf.getBackend()})…`);
  chart.reset();
  els.preview.hidden = true;
  els.video.hidden = true;
  els.browserOut.hidden = false;
  const ms = await net.stylizeTo(source, els.browserOut, Number(els.size.value), strengthValue().blend);
  els.browserOut.dataset.done = String(Date.now());
  els.download.href = els.browserOut.toDataURL('image/png');
  els.download.download = `nst-${net.name}.png`;
  els.download.hidden = false;
  els.report.hidden = true;
  els.caption.textContent = `fast (${net.name}) in this browser · ${els.browserOut.width}×${els.browserOut.height} · ${tf.getBackend()}`;
  setStatus(`done in the browser in ${Math.round(ms)} ms (${tf.getBackend()}); nothing was uploaded`);
}

function loadImageElement(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('cannot read that image'));
    img.src = url;
  });
}

async function startWebcam(): Promise<void> {
  const net = await browserNet();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  state.webcam = stream;
  els.video.srcObject = stream;
  await els.video.play();
  els.preview.hidden = true;
  els.browserOut.hidden = false;
  els.webcamStart.disabled = true;
  els.webcamStop.disabled = false;
  let frames = 0;
  const t0 = performance.now();
  const loop = async () => {
    if (!state.webcam) return;
    if (els.video.readyState >= 2) {
      await net.stylizeTo(els.video, els.browserOut, Math.min(Number(els.size.value), 384), strengthValue().blend);
      frames++;
      setStatus(`webcam: ${(frames / ((performance.now() - t0) / 1000)).toFixed(1)} frames/s (${tf.getBackend()})`);
    }
    requestAnimationFrame(loop);
  };
  loop();
}

function stopWebcam(): void {
  state.webcam?.getTracks().forEach((t) => t.stop());
  state.webcam = null;
  els.webcamStart.disabled = false;
  els.webcamStop.disabled = true;
}

// ---------------------------------------------------------------------------------------------
// Gallery

let galleryTimer: number | undefined;
function refreshGallery(): void {
  window.clearTimeout(galleryTimer);
  galleryTimer = window.setTimeout(() => renderGallery().catch(() => undefined), 100);
}

async function renderGallery(): Promise<void> {
  const { jobs } = await listJobs();
  const cards = jobs.map((job) => {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.jobId = job.id;
    card.dataset.status = job.status;
    const img = document.createElement('img');
    img.alt = describe(job);
    img.loading = 'lazy';
    img.src = job.result ? `${rel(job.result.url)}?v=${encodeURIComponent(job.finishedAt ?? '')}` : rel(job.inputs.content?.url ?? '');
    img.addEventListener('click', () => {
      follow(job);
      $<HTMLElement>('#live').scrollIntoView({ behavior: 'smooth' });
    });
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = describe(job);
    const row = document.createElement('div');
    row.className = 'row';
    const status = document.createElement('span');
    status.className = `status-${job.status}`;
    status.textContent = `${job.status} · ${new Date(job.createdAt).toLocaleString()}`;
    row.append(status);
    if (job.result) {
      const a = document.createElement('a');
      a.href = `${rel(job.result.url)}?download`;
      a.textContent = 'download';
      row.append(a);
    }
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = 'delete';
    del.addEventListener('click', async () => {
      if (!confirm('Delete this result?')) return;
      await deleteJob(job.id).catch((e) => setStatus(String(e.message), true));
      refreshGallery();
    });
    row.append(del);
    card.append(img, meta, row);
    return card;
  });
  els.gallery.replaceChildren(...cards);
  if (!cards.length) els.gallery.textContent = 'Nothing yet: your results will appear here.';
}

// ---------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  els.start.disabled = true;
  try {
    const m = method();
    if (m === 'browser') await startInBrowser();
    else await startServerJob(m);
  } catch (err) {
    setStatus(err instanceof ApiError || err instanceof Error ? err.message : String(err), true);
  } finally {
    els.start.disabled = false;
  }
}

async function init(): Promise<void> {
  setUpSlot('content');
  setUpSlot('style');
  els.preview.addEventListener('load', () => {
    if (els.preview.src.includes('/preview')) bump('previewsShown');
  });
  document.querySelectorAll('input[name="method"]').forEach((r) => r.addEventListener('change', updateMethod));
  els.strength.addEventListener('input', updateStrengthLabel);
  els.start.addEventListener('click', start);
  els.cancel.addEventListener('click', () => {
    if (state.job) cancelJob(state.job.id).catch((e) => setStatus(String(e.message), true));
  });
  els.webcamStart.addEventListener('click', () => startWebcam().catch((e) => setStatus(String(e.message ?? e), true)));
  els.webcamStop.addEventListener('click', stopWebcam);
  els.quality.addEventListener('change', () => {
    const q = state.options?.qualities.find((x) => x.name === els.quality.value);
    if (q) {
      els.size.value = String(q.size);
      els.iterations.placeholder = String(q.iterations);
    }
  });
  els.preset.addEventListener('change', () => {
    const p = state.options?.presets.find((x) => x.name === els.preset.value);
    els.preset.title = p?.description ?? '';
    $<HTMLElement>('#preset-note').textContent = p ? `Preset ${p.name}: ${p.description} (${p.source})` : '';
  });
  updateMethod();

  const [options, samples, styles] = await Promise.all([getOptions(), getSamples().catch(() => []), getStyles().catch(() => [])]);
  state.options = options;
  state.styles = styles;
  const sizes = [64, 128, 256, 384, 512, 768, 1024, 1536, 2048].filter((s) => s >= options.limits.minSize && s <= options.limits.maxSize);
  els.size.replaceChildren(...sizes.map((s) => new Option(`${s} px`, String(s))));
  els.quality.replaceChildren(...options.qualities.map((q) => new Option(`${q.name} — ${q.description}`, q.name)));
  els.quality.value = options.defaultQuality;
  els.quality.dispatchEvent(new Event('change'));
  els.preset.replaceChildren(...options.presets.map((p) => new Option(p.name, p.name)));
  els.preset.value = options.defaultPreset;
  els.preset.dispatchEvent(new Event('change'));
  els.iterations.max = String(options.limits.maxIterations);
  els.fastStyle.replaceChildren(...styles.map((s) => new Option(`${s.name} (${s.kind})`, s.name)));
  renderSamples(samples);
  await renderGallery();
  document.body.dataset.ready = 'true';
}

init().catch((err) => setStatus(`cannot reach the server: ${err.message}`, true));
