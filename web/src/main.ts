/**
 * The page: choose a photo and one or more paintings (upload, drag and drop, or named samples),
 * pick how to paint and a few plain settings (the technical ones behind "Advanced"), press Paint,
 * watch it paint on the stage (live preview, progress, a loss chart for the optimisation), then
 * compare with the photo, zoom, download. The gallery below stays live and offers "Paint again".
 * The in-browser mode runs the quick styles with TF.js and keeps its results in this browser.
 * A short video chosen as the photo switches to video mode: quick styles on the server, progress
 * in frames, and the result plays in a <video>.
 */
import { ApiError, cancelJob, createJob, getJob, getOptions, getSamples, getStyles, Job, LossRow, Sample, ServerOptions, StyleInfo, thumbnailUrl, watchJob } from './api.js';
import { LossChart } from './chart.js';
import { ArbitraryNet } from './arbitrary-net.js';
import { BrowserStyleNet, chooseBackend, StyleNet } from './fast-net.js';
import { fitPainting } from './fit-painting.js';
import { formatSeconds, Gallery, titleOf } from './gallery.js';
import { LocalResult, saveLocalResult } from './local-results.js';
import { Viewer } from './viewer.js';
import { downloadName, PRESET_WORDS } from './words.js';
import { DetailsPanel } from './details.js';
import { alphaAt, sliderFor, TRANSFER_WORDS, TransferMethodInfo } from './transfer-methods.js';
import { PRINT_SIZES, PrintSizes } from './prints.js';

type Role = 'content' | 'style';
type Method = 'stylize' | 'fast' | 'browser';

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;
const rel = (url: string) => url.replace(/^\//, '');
const BASE_TITLE = document.title;
const CURRENT_JOB_KEY = 'nst.currentJob';
const VIDEO_NAME = /\.(mp4|m4v|mov|webm|mkv|avi)$/i;
/** The server paints a video at its own size up to 256 px (DEFAULT_VIDEO_SIZE), the size menu's first choice then. */
const VIDEO_OWN_SIZE = 'as filmed (≤ 256 px)';

const state = {
  content: { file: null as File | null, sample: null as string | null },
  /** The chosen photo is a video: quick styles on the server only. */
  videoMode: false,
  /** Paintings for the optimisation: an uploaded file and/or samples; one job each. */
  style: { file: null as File | null, samples: [] as string[] },
  /** Quick styles chosen for the server (one job each); the select shows the first. */
  fastStyles: [] as string[],
  options: null as ServerOptions | null,
  samples: [] as Sample[],
  styles: [] as StyleInfo[],
  /** The arbitrary-style transformer's graph model (fitted styles in this browser), if served. */
  arbitraryModel: null as string | null,
  job: null as Job | null,
  stopWatching: null as (() => void) | null,
  net: null as BrowserStyleNet | null,
  webcam: null as MediaStream | null,
  /** Strength per mode: the optimisation's 0–200 scale and the quick styles' 0–100 %. */
  strength: { stylize: 100, fast: 100 },
};

const els = {
  status: $<HTMLParagraphElement>('#status'),
  progress: $<HTMLProgressElement>('#progress'),
  caption: $<HTMLElement>('#caption'),
  start: $<HTMLButtonElement>('#start'),
  cancel: $<HTMLButtonElement>('#cancel'),
  download: $<HTMLAnchorElement>('#download'),
  detailsOpen: $<HTMLButtonElement>('#details-open'),
  size: $<HTMLSelectElement>('#size'),
  preset: $<HTMLSelectElement>('#preset'),
  quality: $<HTMLSelectElement>('#quality'),
  transferMethod: $<HTMLSelectElement>('#transfer-method'),
  iterations: $<HTMLInputElement>('#iterations'),
  strength: $<HTMLInputElement>('#strength'),
  strengthValue: $<HTMLOutputElement>('#strength-value'),
  preserve: $<HTMLSelectElement>('#preserve-colors'),
  fastStyle: $<HTMLSelectElement>('#fast-style'),
  backend: $<HTMLSelectElement>('#backend'),
  advanced: $<HTMLDetailsElement>('#advanced'),
  chartBox: $<HTMLDetailsElement>('#chart-box'),
  formError: $<HTMLElement>('#form-error'),
  webcamStart: $<HTMLButtonElement>('#webcam-start'),
  webcamStop: $<HTMLButtonElement>('#webcam-stop'),
  fitFile: $<HTMLInputElement>('#fit-file'),
  fitStatus: $<HTMLElement>('#fit-status'),
};
const chart = new LossChart($<HTMLCanvasElement>('#chart'));
const viewer = new Viewer();
const details = new DetailsPanel();
const prints = new PrintSizes(els.size, $<HTMLElement>('#print-note'));
const gallery = new Gallery($('#gallery'), $('#more'), $('#gallery-count'), {
  open: (job) => {
    follow(job);
    $<HTMLElement>('#live').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  },
  openLocal: showLocal,
  rerun: (job) => rerun(job).catch((e) => showError(String(e.message ?? e))),
  deleted: (id) => {
    if (state.job?.id === id) showDeleted();
  },
  changed: (job) => {
    // The job on the stage, no longer watched though it had not ended (its stream broke), catches up.
    const shown = state.job;
    if (shown?.id === job.id && !state.stopWatching && (shown.status === 'queued' || shown.status === 'running')) follow(job);
  },
  styleThumb,
  error: (m) => showError(m),
});


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

// ---------------------------------------------------------------------------------------------
// Errors: shown where they belong (beside the photo, the painting, or the Paint button)

function showError(message: string, where?: Role): void {
  const target = where ?? (/\b(content|photo)\b/i.test(message) ? 'content' : /\b(style|painting)\b/i.test(message) && method() === 'stylize' ? 'style' : null);
  const box = target ? $<HTMLElement>(`#slot-${target} .slot-error`) : els.formError;
  box.textContent = message;
  box.hidden = false;
}

function clearErrors(): void {
  document.querySelectorAll<HTMLElement>('.slot-error, #form-error').forEach((e) => {
    e.hidden = true;
    e.textContent = '';
  });
  if (els.status.classList.contains('error')) setStatus(state.job ? '' : 'Choose a photo and a painting.');
}

// ---------------------------------------------------------------------------------------------
// Strength: one slider, read in the mode's own terms

/** The optimisation's transfer method chosen (null on a server that offers no choice). */
function transferMethod(): TransferMethodInfo | null {
  return state.options?.transferMethods?.find((t) => t.name === els.transferMethod.value) ?? null;
}

/**
 * Optimisation: slider 0–200 → style weight 10…1000 (log, 100 = default), or for methods balanced
 * by alpha the share of the photo kept (see transfer-methods.ts); quick styles: 0–100 %.
 */
function strengthValue(): { styleWeight: number; alpha: number | null; blend: number } {
  const s = Number(els.strength.value);
  const usual = transferMethod()?.alpha;
  const alpha = usual === null || usual === undefined ? null : alphaAt(s, usual);
  return { styleWeight: Number((100 * 10 ** ((s - 100) / 100)).toPrecision(3)), alpha, blend: Math.min(s, 100) / 100 };
}

function updateStrengthLabel(): void {
  const s = Number(els.strength.value);
  const { alpha } = strengthValue();
  if (method() === 'stylize' && alpha !== null) {
    const word = s === 100 ? 'balanced' : s < 100 ? 'lighter' : 'stronger';
    els.strengthValue.textContent = `${word} (photo kept ${Math.round(alpha * 100)} %)`;
    $<HTMLElement>('#weight-note').textContent = `Strength sets alpha to ${alpha} (the usual is ${transferMethod()?.alpha}); 1 keeps the most of the photo.`;
    state.strength.stylize = s;
  } else if (method() === 'stylize') {
    const factor = 10 ** ((s - 100) / 100);
    const word = s === 100 ? 'balanced' : s < 100 ? 'lighter' : 'stronger';
    els.strengthValue.textContent = `${word} (${factor < 1 ? factor.toFixed(2) : factor.toPrecision(2)}×)`;
    $<HTMLElement>('#weight-note').textContent = `Strength sets the style weight to ${strengthValue().styleWeight} (the usual is 100).`;
    state.strength.stylize = s;
  } else {
    els.strengthValue.textContent = s >= 100 ? '100 % (full style)' : `${s} % style, ${100 - s} % photo`;
    state.strength.fast = s;
  }
}

/** The chosen transfer method's line of words; the layer presets only where Gatys paints. */
function showTransferMethod(): void {
  const t = transferMethod();
  const note = document.querySelector<HTMLElement>('#transfer-note');
  if (note) note.textContent = t ? (TRANSFER_WORDS[t.name]?.line ?? t.description) : '';
  const gatys = !t || t.name === 'gatys';
  document.querySelectorAll<HTMLElement>('.gatys-only').forEach((e) => (e.hidden = !gatys));
  $<HTMLElement>('#preset-note').hidden = !gatys;
  updateStrengthLabel();
}

function isVideoFile(file: File): boolean {
  return file.type.startsWith('video/') || (file.type === '' && VIDEO_NAME.test(file.name));
}

/** Video mode: only quick styles on the server paint videos; the other ways are off meanwhile. */
function setVideoMode(on: boolean): void {
  state.videoMode = on;
  document.body.dataset.videoMode = String(on);
  for (const value of ['stylize', 'browser']) $<HTMLInputElement>(`input[name="method"][value="${value}"]`).disabled = on;
  if (on) $<HTMLInputElement>('input[name="method"][value="fast"]').checked = true;
  const own = [...els.size.options].find((o) => o.value === '');
  if (on && !own) {
    els.size.prepend(new Option(VIDEO_OWN_SIZE, ''));
    els.size.value = '';
  } else if (!on && own) {
    own.remove();
    els.size.value = String(state.options?.qualities.find((q) => q.name === els.quality.value)?.size ?? els.size.options[0]?.value ?? '');
  }
  const note = $<HTMLElement>('#video-note');
  const seconds = state.options?.limits.maxVideoSeconds;
  note.textContent = on ? `A video is painted on the server with a quick style, frame by frame${seconds ? ` (${seconds} s at most)` : ''}.` : '';
  note.hidden = !on;
  updateMethod();
}

/** The chosen print's time, said again whenever what it depends on changes. */
function updatePrintNote(): void {
  const m = method();
  prints.enable(m !== 'browser' && !state.videoMode);
  if (m === 'browser' || state.videoMode) return;
  const photo = $<HTMLImageElement>('#slot-content .drop img.chosen');
  const known = !photo.hidden && photo.naturalWidth > 0;
  prints
    .update({
      method: m,
      size: Number(els.size.value),
      width: known ? photo.naturalWidth : 4,
      height: known ? photo.naturalHeight : 3,
      quality: els.quality.value,
      iterations: els.iterations.value || undefined,
      transferMethod: transferMethod()?.name,
    })
    .catch(() => undefined);
}

function updateMethod(): void {
  const m = method();
  document.querySelectorAll<HTMLElement>('.not-video').forEach((e) => (e.hidden = state.videoMode));
  document.querySelectorAll<HTMLElement>('.for-stylize').forEach((e) => (e.hidden = m !== 'stylize'));
  if (m !== 'stylize' && els.preserve.value === 'histogram') els.preserve.value = 'none';
  document.querySelectorAll<HTMLElement>('.for-browser').forEach((e) => (e.hidden = m !== 'browser'));
  $<HTMLElement>('#slot-style .for-style').hidden = m !== 'stylize';
  $<HTMLElement>('#slot-style .for-fast').hidden = m === 'stylize';
  $<HTMLElement>('#slot-style h2').textContent = m === 'stylize' ? 'The painting' : 'The style';
  // The slider's scale is the mode's own: 0–200 (×0.1…×10) or 0–100 %.
  els.strength.max = m === 'stylize' ? '200' : '100';
  els.strength.value = String(m === 'stylize' ? state.strength.stylize : Math.min(state.strength.fast, 100));
  if (m === 'browser' && state.fastStyles.length > 1) state.fastStyles = state.fastStyles.slice(0, 1);
  renderFastStyles();
  updateStrengthLabel();
  updatePrintNote();
}

// ---------------------------------------------------------------------------------------------
// Choosing images

function sampleName(id: string): string {
  return state.samples.find((s) => s.id === id)?.name ?? id;
}

function showChoices(role: Role): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const img = $<HTMLImageElement>('.drop img.chosen', slot);
  const name = $<HTMLElement>('.chosen-name', slot);
  const clip = slot.querySelector<HTMLVideoElement>('.drop video.chosen-video');
  let url: string | null = null;
  const labels: string[] = [];
  if (role === 'content') {
    const c = state.content;
    if (c.file) {
      url = URL.createObjectURL(c.file);
      labels.push(`${c.file.name} (${Math.round(c.file.size / 1024)} KiB)`);
    } else if (c.sample) {
      url = `api/samples/${c.sample}?size=512`;
      labels.push(`sample: ${sampleName(c.sample)}`);
    }
  } else {
    const s = state.style;
    if (s.file) {
      url = URL.createObjectURL(s.file);
      labels.push(`${s.file.name} (${Math.round(s.file.size / 1024)} KiB)`);
    }
    if (s.samples.length) {
      url ??= `api/samples/${s.samples[0]}?size=512`;
      labels.push(...s.samples.map(sampleName));
    }
  }
  const video = role === 'content' && state.videoMode;
  if (clip) {
    clip.hidden = !(video && url);
    if (video && url) {
      clip.src = url;
      clip.play().catch(() => undefined);
    } else {
      clip.pause();
      clip.removeAttribute('src');
    }
  }
  if (url && !video) img.src = url;
  img.hidden = !url || video;
  name.textContent = role === 'style' && labels.length > 1 ? `${labels.length} paintings: ${labels.join(', ')}` : labels.join('');
  const chosen = role === 'content' ? [state.content.sample] : state.style.samples;
  slot.querySelectorAll<HTMLButtonElement>('.samples button').forEach((b) => b.setAttribute('aria-pressed', String(chosen.includes(b.dataset.id!))));
}

function chooseFile(role: Role, file: File): void {
  clearErrors();
  const video = role === 'content' && isVideoFile(file);
  if (!video && !file.type.startsWith('image/') && file.type !== '') {
    showError(`${file.name} does not look like ${role === 'content' ? 'a photo or a video' : 'an image'}`, role);
    return;
  }
  const maxVideoBytes = state.options?.limits.maxVideoBytes;
  if (video && maxVideoBytes && file.size > maxVideoBytes) {
    showError(`${file.name} is ${Math.round(file.size / 1048576)} MiB: the server takes videos up to ${Math.round(maxVideoBytes / 1048576)} MiB`, role);
    return;
  }
  if (role === 'content') {
    state.content = { file, sample: null };
    if (video !== state.videoMode) setVideoMode(video);
  }
  else state.style = { file, samples: [] };
  showChoices(role);
}

function toggleSample(role: Role, sample: Sample): void {
  clearErrors();
  if (role === 'content') {
    state.content = { file: null, sample: sample.id };
    if (state.videoMode) setVideoMode(false);
  } else {
    const list = state.style.samples;
    state.style.samples = list.includes(sample.id) ? list.filter((x) => x !== sample.id) : [...list, sample.id];
  }
  showChoices(role);
}

function setUpSlot(role: Role): void {
  const slot = $<HTMLElement>(`#slot-${role}`);
  const input = $<HTMLInputElement>(`#${role}-file`);
  input.addEventListener('change', () => {
    if (input.files?.[0]) chooseFile(role, input.files[0]);
    input.value = '';
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
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
}

function tile(id: string, name: string, src: string | null, pressed: boolean, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.id = id;
  b.title = name;
  b.setAttribute('aria-pressed', String(pressed));
  if (src) {
    const img = document.createElement('img');
    img.src = src;
    img.alt = '';
    img.loading = 'lazy';
    b.append(img);
  } else {
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.textContent = name.slice(0, 1).toUpperCase();
    b.append(sw);
  }
  const label = document.createElement('span');
  label.textContent = name;
  b.append(label);
  b.addEventListener('click', onClick);
  return b;
}

function renderSamples(): void {
  for (const role of ['content', 'style'] as Role[]) {
    const box = $<HTMLElement>(`#${role}-samples`);
    box.dataset.empty = 'no samples on this server';
    box.replaceChildren(...state.samples.filter((x) => x.kind === role).map((s) => tile(s.id, s.name, `${rel(s.url)}?size=160`, false, () => toggleSample(role, s))));
  }
}

/** A quick style's name in words (a fitted one's painting). */
function styleTitle(s: StyleInfo): string {
  return s.title ?? s.name.replace(/_/g, ' ');
}

/** The painting a quick style was trained on, where the server has it among its samples. */
function styleThumb(name: string): string | null {
  if (!name) return null;
  const fitted = state.styles.find((s) => s.name === name)?.thumbnail;
  if (fitted) return fitted;
  const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const paintings = state.samples.filter((s) => s.kind === 'style');
  const norm = (s: Sample) => s.name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const hit = paintings.find((s) => norm(s) === key) ?? paintings.find((s) => key.length >= 4 && norm(s).includes(key));
  return hit ? `${rel(hit.url)}?size=160` : null;
}

function renderFastStyles(): void {
  const box = $<HTMLElement>('#fast-styles');
  box.dataset.empty = 'no quick styles on this server';
  if (!state.fastStyles.length && els.fastStyle.value) state.fastStyles = [els.fastStyle.value];
  box.replaceChildren(
    ...state.styles.map((s) =>
      tile(s.name, styleTitle(s), styleThumb(s.name), state.fastStyles.includes(s.name), () => {
        clearErrors();
        const list = state.fastStyles;
        if (method() === 'browser') state.fastStyles = [s.name];
        else state.fastStyles = list.includes(s.name) ? (list.length > 1 ? list.filter((x) => x !== s.name) : list) : [...list, s.name];
        els.fastStyle.value = state.fastStyles[0];
        renderFastStyles();
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Server jobs

function baseForm(m: 'stylize' | 'fast'): FormData {
  const form = new FormData();
  const video = state.videoMode && m === 'fast';
  form.append('method', video ? 'video' : m);
  if (state.content.file) form.append('content', state.content.file, state.content.file.name);
  else if (state.content.sample) form.append('contentSample', state.content.sample);
  else throw Object.assign(new Error('Choose a photo first.'), { role: 'content' as Role });
  if (els.size.value) form.append('size', els.size.value);
  if (els.preserve.value !== 'none') form.append('preserveColors', els.preserve.value);
  if (video) return form; // a video job has no strength: the network paints every frame fully
  const { styleWeight, alpha, blend } = strengthValue();
  if (m === 'stylize') {
    if (transferMethod()) form.append('transferMethod', els.transferMethod.value);
    form.append('quality', els.quality.value);
    if (els.iterations.value) form.append('iterations', els.iterations.value);
    // Methods balanced by alpha take neither weights nor the layer presets (their layers are their own).
    if (alpha !== null) form.append('alpha', String(alpha));
    else {
      form.append('preset', els.preset.value);
      form.append('styleWeight', String(styleWeight));
    }
  } else {
    form.append('strength', String(blend));
  }
  return form;
}

/** One job per painting (or quick style) chosen; the stage follows the first, the gallery shows all. */
async function startServerJobs(m: 'stylize' | 'fast'): Promise<void> {
  const forms: FormData[] = [];
  baseForm(m); // says "choose a photo" before anything about the painting
  if (m === 'stylize') {
    const s = state.style;
    if (!s.file && !s.samples.length) throw Object.assign(new Error('Choose a painting first.'), { role: 'style' as Role });
    if (s.file) {
      const f = baseForm(m);
      f.append('style', s.file, s.file.name);
      forms.push(f);
    }
    for (const id of s.samples) {
      const f = baseForm(m);
      f.append('styleSample', id);
      forms.push(f);
    }
  } else {
    const names = state.fastStyles.length ? state.fastStyles : els.fastStyle.value ? [els.fastStyle.value] : [];
    if (!names.length) throw new Error('There is no quick style on this server.');
    for (const name of names) {
      const f = baseForm(m);
      f.append('fastStyle', name);
      forms.push(f);
    }
  }
  setStatus(forms.length > 1 ? `sending ${forms.length} paintings…` : 'sending…');
  if (m === 'stylize' && 'Notification' in window && Notification.permission === 'default') {
    // Asked while the user is here (a click); used only when a long job ends in a hidden tab.
    Notification.requestPermission().catch(() => undefined);
  }
  let first: Job | null = null;
  for (const form of forms) {
    const job = await createJob(form);
    gallery.add(job);
    if (!first) {
      first = job;
      follow(job);
      // On a phone the stage is below the choices: bring it into view.
      if (window.matchMedia('(max-width: 860px)').matches) $<HTMLElement>('#live').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }
}

/** The photo to compare with; a video's frames change, so a video job has none (nor has a fit). */
function beforeOf(job: Job): string | null {
  return job.method === 'video' || !job.inputs.content ? null : thumbnailUrl(job.id, 'content', 1024);
}

/** Shows a job on the stage and follows its events until it ends. */
function follow(job: Job): void {
  state.stopWatching?.();
  state.stopWatching = null;
  stopWebcam();
  state.job = job;
  try {
    localStorage.setItem(CURRENT_JOB_KEY, job.id);
  } catch {
    // storage off: a reload simply forgets
  }
  els.download.hidden = true;
  // Its settings can be read while it paints; the panel fills in the rest at the end.
  els.detailsOpen.hidden = false;
  details.link(job);
  chart.reset();
  els.chartBox.hidden = job.method !== 'stylize';
  els.progress.value = 0;
  els.caption.textContent = describe(job);
  const before = beforeOf(job);
  const running = job.status === 'queued' || job.status === 'running';
  els.cancel.disabled = !running;
  if (!running) {
    showEnded(job, false);
    if (job.method === 'stylize') fetch(rel(job.links.report)).then((r) => r.json()).then((rep) => chart.reset(rep.lossHistory?.rows ?? []), () => undefined);
    return;
  }
  // A painting being learnt hangs on the stage while it is learnt (not the previous result).
  if (job.method === 'fit') viewer.showImage(thumbnailUrl(job.id, 'style', 1024), null);
  else if (job.checkpointIteration || (job.method === 'video' && job.progress)) viewer.showImage(`${rel(job.links.preview)}?iteration=${job.checkpointIteration ?? job.progress?.iteration}`, before);
  else viewer.clear(job.status === 'queued' ? 'Waiting for its turn…' : 'Painting…');
  setStatus(job.status === 'queued' ? `waiting${job.queuePosition ? ` (${job.queuePosition} ahead)` : ''}…` : 'starting…');
  const startedWatching = Date.now();
  state.stopWatching = watchJob(job.id, {
    onSnapshot: (j, history: LossRow[]) => {
      chart.reset(history);
      if (j.checkpointIteration) viewer.showImage(`${rel(j.links.preview)}?iteration=${j.checkpointIteration}`, before);
      if (j.progress && j.status === 'running') showProgress(j.progress.iteration, j.progress.iterations, j.progress.etaSeconds, j.method);
    },
    onStatus: (status) => {
      if (status === 'running') setStatus(job.method === 'fit' ? `learning the style of “${paintingTitle(job)}”…` : 'painting…');
    },
    onProgress: (p) => {
      bump('progressEvents');
      if (p.losses) chart.push([p.iteration, p.losses.content, p.losses.style, p.losses.tv, p.losses.total]);
      showProgress(p.iteration, p.iterations, p.etaSeconds, job.method);
    },
    onPreview: (_iteration, url) => {
      bump('previewEvents');
      viewer.showImage(url, before);
    },
    onEnd: (j) => {
      state.stopWatching = null;
      if ((j.status as string) === 'deleted') {
        showDeleted();
        return;
      }
      state.job = j;
      showEnded(j, true, (Date.now() - startedWatching) / 1000);
    },
    onError: (message) => setStatus(message, true),
  });
}

function showProgress(iteration: number, iterations: number, eta: number, m: string): void {
  els.progress.max = iterations;
  els.progress.value = iteration;
  const etaText = Number.isFinite(eta) && iteration < iterations ? ` · about ${formatSeconds(eta)} left` : '';
  const share = Math.round((100 * iteration) / iterations);
  const fitting = m === 'fit' && state.job ? `learning the style of “${paintingTitle(state.job)}”… step ${iteration} of ${iterations}${etaText}` : null;
  // Counted where the painting being learnt is on the stage (what a test can check after a quick fit).
  if (fitting && viewer.image.src.includes('/thumbnail/style')) bump('fitProgressOnStage');
  setStatus(fitting ?? (m === 'stylize' ? `painting… step ${iteration} of ${iterations}${etaText}` : m === 'video' ? `painting… frame ${iteration} of ${iterations}${etaText}` : 'painting…'));
  document.title = `${share} % · ${BASE_TITLE}`;
}

/** A job's end: the result with its links, or why there is none. `live`: it ended while watched. */
function showEnded(job: Job, live: boolean, watchedSeconds = 0): void {
  els.cancel.disabled = true;
  els.progress.max = 1;
  els.progress.value = job.result ? 1 : 0;
  const before = beforeOf(job);
  if (job.result && job.method === 'video') {
    const poster = job.result.poster ? `${rel(job.result.poster)}?size=1024&v=${encodeURIComponent(job.finishedAt ?? '')}` : null;
    viewer.showVideo(`${rel(job.result.url)}?v=${encodeURIComponent(job.finishedAt ?? '')}`, poster);
    els.download.href = `${rel(job.result.url)}?download`;
    els.download.removeAttribute('download');
    els.download.download = '';
    els.download.hidden = false;
  } else if (job.result) {
    viewer.showImage(`${rel(job.result.url)}?v=${encodeURIComponent(job.finishedAt ?? '')}`, before);
    els.download.href = `${rel(job.result.url)}?download`;
    els.download.removeAttribute('download');
    els.download.download = '';
    els.download.hidden = false;
  } else {
    viewer.clear(job.status === 'failed' ? 'Nothing to show: it failed.' : 'Nothing to show.');
  }
  // A fit's result is its painting, small: nothing to download.
  if (job.method === 'fit') els.download.hidden = true;
  details.link(job);
  els.detailsOpen.hidden = false;
  const seconds = job.result ? ` in ${formatSeconds(job.result.seconds)}` : '';
  const text: Record<string, string> = {
    succeeded: job.method === 'fit' ? `“${paintingTitle(job)}” is a quick style now (${job.result?.details?.cached ? 'known already' : `learnt${seconds}`}): pick a photo and press Paint` : `done${seconds}: ${job.result?.width}×${job.result?.height}`,
    cancelled: job.result ? 'stopped — the painting so far is kept' : 'stopped',
    failed: `failed: ${job.error ?? 'unknown error'}`,
    interrupted: job.error ?? 'interrupted',
  };
  setStatus(text[job.status] ?? job.status, job.status === 'failed');
  if (live) announce(job, watchedSeconds);
  else if (document.title.includes('%')) document.title = BASE_TITLE;
}

/** A long job that ends is announced: in the tab's title, and a notification if the tab is hidden. */
function announce(job: Job, watchedSeconds: number): void {
  const word = job.status === 'succeeded' ? '✓ Painted' : job.status === 'failed' ? '✗ Failed' : 'Stopped';
  document.title = `${word} — ${BASE_TITLE}`;
  const restore = () => {
    document.title = BASE_TITLE;
    window.removeEventListener('pointerdown', restore);
    window.removeEventListener('keydown', restore);
  };
  window.addEventListener('pointerdown', restore);
  window.addEventListener('keydown', restore);
  const long = Math.max(watchedSeconds, job.result?.seconds ?? 0) >= 20;
  if (long && document.hidden && 'Notification' in window && Notification.permission === 'granted') {
    const n = new Notification(`${word}: ${titleOf(job)}`, { body: job.result ? `${job.result.width}×${job.result.height} in ${formatSeconds(job.result.seconds)}` : (job.error ?? '') });
    n.onclick = () => window.focus();
  }
}

/** The job on the stage was deleted: nothing of it may stay (no preview, no dead links). */
function showDeleted(): void {
  state.stopWatching?.();
  state.stopWatching = null;
  state.job = null;
  try {
    localStorage.removeItem(CURRENT_JOB_KEY);
  } catch {
    // ignore
  }
  viewer.clear('That painting was deleted.');
  els.download.hidden = true;
  els.download.removeAttribute('href');
  els.detailsOpen.hidden = true;
  details.link(null);
  els.cancel.disabled = true;
  els.chartBox.hidden = true;
  els.progress.value = 0;
  els.caption.textContent = '';
  document.title = BASE_TITLE;
  setStatus('the painting was deleted');
}

/** Plain words for a job's settings (the caption under the stage). */
/** The name of the painting a fit job learns, from its file. */
function paintingTitle(job: Job): string {
  return (job.inputs.style?.name ?? 'painting').replace(/^.*\//, '').replace(/\.[a-z0-9]+$/i, '');
}

function describe(job: Job): string {
  const p = job.params;
  if (job.method === 'fit') return `${paintingTitle(job)} · learnt once as a quick style, then it paints photos in a second`;
  const how = job.method === 'stylize' ? 'any painting' : job.method === 'video' ? 'video · quick style' : 'quick style';
  const parts = [titleOf(job), how, p.size ? `${p.size} px` : 'as filmed'];
  const clip = job.inputs.content?.video;
  if (clip) parts.push(`${clip.frames} frames`);
  if (job.method === 'stylize') {
    if (p.transferMethod && p.transferMethod !== 'gatys') parts.push(String(TRANSFER_WORDS[String(p.transferMethod)]?.label ?? p.transferMethod).replace(/ · .*/, ''));
    parts.push(`${p.iterations} steps`);
    if (p.preset && p.preset !== 'gatys') parts.push(PRESET_WORDS[String(p.preset)] ?? String(p.preset));
    if (p.alpha !== undefined) parts.push(`photo kept ${Math.round(Number(p.alpha) * 100)} %`);
    const sw = Number(p.styleWeight ?? 100);
    if (sw !== 100) parts.push(sw > 100 ? 'stronger style' : 'lighter style');
  } else if (p.strength !== undefined && p.strength !== 1) parts.push(`${Math.round(Number(p.strength) * 100)} % style`);
  if (p.preserveColors === 'histogram') parts.push('painting recoloured');
  else if (p.preserveColors && p.preserveColors !== 'none') parts.push("photo's colours");
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// "Paint again": a gallery job's photo, painting and settings back into the form

async function asFile(url: string, name: string): Promise<File> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${name} (${res.status})`);
  const blob = await res.blob();
  return new File([blob], name, { type: blob.type });
}

async function rerun(job: Job): Promise<void> {
  clearErrors();
  if (job.method === 'fit') return chooseFittedStyle(job);
  const p = job.params;
  const m: Method = job.method === 'stylize' ? 'stylize' : 'fast';
  $<HTMLInputElement>(`input[name="method"][value="${m}"]`).checked = true;
  const source = async (role: Role) => {
    const input = job.inputs[role];
    if (!input) return null;
    if (input.source === 'sample' && state.samples.some((s) => s.id === input.name)) return { sample: input.name, file: null };
    return { sample: null, file: await asFile(rel(input.url), input.name) };
  };
  const content = await source('content');
  if (content) state.content = { file: content.file, sample: content.sample };
  setVideoMode(job.method === 'video');
  if (m === 'stylize') {
    const style = await source('style');
    if (style) state.style = { file: style.file, samples: style.sample ? [style.sample] : [] };
    els.quality.value = String(p.quality ?? els.quality.value);
    els.preset.value = String(p.preset ?? els.preset.value);
    els.preset.dispatchEvent(new Event('change'));
    els.iterations.value = String(p.iterations ?? '');
    if (transferMethod()) els.transferMethod.value = String(p.transferMethod ?? 'gatys');
    const usual = transferMethod()?.alpha;
    if (typeof usual === 'number') state.strength.stylize = p.alpha === undefined ? 100 : sliderFor(Number(p.alpha), usual);
    else {
      const sw = Number(p.styleWeight ?? 100);
      state.strength.stylize = Math.round(Math.min(200, Math.max(0, 100 + 100 * Math.log10(sw / 100))));
    }
    showTransferMethod();
  } else {
    els.fastStyle.value = String(p.fastStyle);
    state.fastStyles = [String(p.fastStyle)];
    state.strength.fast = Math.round(Number(p.strength ?? 1) * 100);
  }
  const size = p.size === undefined ? '' : String(p.size);
  if (![...els.size.options].some((o) => o.value === size)) els.size.append(new Option(`${p.size} px`, size));
  els.size.value = size;
  els.preserve.value = p.preserveColors === true ? 'luminance' : p.preserveColors === false || !p.preserveColors ? 'none' : String(p.preserveColors);
  updateMethod();
  showChoices('content');
  showChoices('style');
  setStatus(`“${titleOf(job)}” is loaded: change anything, then press Paint.`);
  document.body.dataset.rerunLoaded = job.id;
  $<HTMLElement>('.panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

/** "Paint again" on a fitted painting: its style becomes the chosen quick style. */
async function chooseFittedStyle(job: Job): Promise<void> {
  const name = job.result?.details?.style;
  if (job.status !== 'succeeded' || typeof name !== 'string') throw new Error('That painting was not learnt as a style.');
  await reloadStyles(name);
  if (method() === 'stylize') $<HTMLInputElement>('input[name="method"][value="fast"]').checked = true;
  updateMethod();
  setStatus(`The style “${name}” is chosen: pick a photo and press Paint.`);
  document.body.dataset.rerunLoaded = job.id;
  $<HTMLElement>('.panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---------------------------------------------------------------------------------------------
// In-browser quick styles

async function browserNet(): Promise<BrowserStyleNet> {
  const name = els.fastStyle.value;
  const style = state.styles.find((s) => s.name === name);
  if (!style) throw new Error('There is no quick style on this server.');
  if (typeof tf === 'undefined') throw new Error('TensorFlow.js did not load');
  const backend = await chooseBackend(els.backend.value);
  if (state.net?.name !== name) {
    setStatus(`loading the '${name}' network (${backend})…`);
    await nextPaint();
    state.net?.dispose();
    state.net = null;
    state.net = await loadBrowserNet(style);
  }
  return state.net;
}

/** A network: its weights; a fitted style: its vector, with the transformer the server serves. */
function loadBrowserNet(style: StyleInfo): Promise<BrowserStyleNet> {
  if (style.vector) {
    if (!state.arbitraryModel) throw new Error('This server has no arbitrary-style transformer for fitted styles.');
    return ArbitraryNet.load(style.name, rel(style.vector), rel(state.arbitraryModel));
  }
  return StyleNet.load(style.name, rel(style.weights ?? ''));
}

/** Reads the styles again (a painting was fitted) and picks `name`. */
async function reloadStyles(name: string): Promise<void> {
  const catalog = await getStyles();
  state.styles = catalog.styles;
  state.arbitraryModel = catalog.arbitraryModel;
  els.fastStyle.replaceChildren(...catalog.styles.map((s) => new Option(styleTitle(s), s.name)));
  els.fastStyle.value = name;
  state.fastStyles = [name];
  renderFastStyles();
}

function startFit(file: File): void {
  clearErrors();
  els.fitStatus.classList.remove('error');
  fitPainting(file, {
    started: (job) => {
      follow(job);
      gallery.add(job);
      if (window.matchMedia('(max-width: 860px)').matches) $<HTMLElement>('#live').scrollIntoView({ behavior: 'smooth', block: 'start' });
    },
    status: (text, error = false) => {
      els.fitStatus.textContent = text;
      els.fitStatus.classList.toggle('error', error);
    },
    fitted: (name) => {
      bump('stylesFitted');
      return reloadStyles(name);
    },
  }).catch((e) => {
    els.fitStatus.textContent = String(e.message ?? e);
    els.fitStatus.classList.add('error');
  });
}

async function startInBrowser(): Promise<void> {
  state.stopWatching?.();
  state.stopWatching = null;
  state.job = null;
  let source: HTMLImageElement;
  let photoUrl: string;
  let photoName: string;
  if (state.content.file) {
    photoUrl = URL.createObjectURL(state.content.file);
    photoName = state.content.file.name.replace(/\.[a-z0-9]+$/i, '');
  } else if (state.content.sample) {
    photoUrl = `api/samples/${state.content.sample}?size=1024`;
    photoName = sampleName(state.content.sample);
  } else throw Object.assign(new Error('Choose a photo first.'), { role: 'content' as Role });
  source = await loadImageElement(photoUrl);
  const net = await browserNet();
  setStatus(`painting in the browser (${tf.getBackend()})…`);
  await nextPaint();
  chart.reset();
  els.chartBox.hidden = true;
  els.detailsOpen.hidden = true;
  details.link(null);
  els.cancel.disabled = true;
  const ms = await net.stylizeTo(source, viewer.canvas, Number(els.size.value), strengthValue().blend);
  viewer.showCanvas(photoUrl);
  viewer.canvas.dataset.done = String(Date.now());
  els.download.href = viewer.canvas.toDataURL('image/png');
  els.download.download = downloadName(photoName, net.name, '.png');
  els.download.hidden = false;
  els.caption.textContent = `${photoName} × ${net.name} · quick style in this browser · ${viewer.canvas.width}×${viewer.canvas.height} · ${tf.getBackend()}`;
  setStatus(`done in the browser in ${Math.round(ms)} ms (${tf.getBackend()}); nothing was uploaded`);
  // Kept in this browser's gallery (IndexedDB), never sent to the server.
  const blob = await new Promise<Blob | null>((resolve) => viewer.canvas.toBlob(resolve, 'image/png'));
  if (blob) {
    const id = `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    await saveLocalResult({ id, createdAt: new Date().toISOString(), style: net.name, photoName, width: viewer.canvas.width, height: viewer.canvas.height, ms, backend: tf.getBackend(), blob })
      .then(() => gallery.reloadLocal())
      .catch(() => undefined);
    bump('localSaved');
  }
}

function showLocal(r: LocalResult): void {
  state.stopWatching?.();
  state.stopWatching = null;
  state.job = null;
  const url = URL.createObjectURL(r.blob);
  viewer.showImage(url, null);
  els.download.href = url;
  els.download.download = downloadName(r.photoName, r.style, '.png');
  els.download.hidden = false;
  els.detailsOpen.hidden = true;
  details.link(null);
  els.chartBox.hidden = true;
  els.cancel.disabled = true;
  els.caption.textContent = `${r.photoName} × ${r.style} · quick style in this browser · ${r.width}×${r.height} · ${r.backend}`;
  setStatus(`painted in this browser in ${Math.round(r.ms)} ms`);
  $<HTMLElement>('#live').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

/** Lets the browser show the status line (and finish handling the click) before a long synchronous run. */
function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
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
  state.stopWatching?.();
  state.stopWatching = null;
  state.webcam = stream;
  viewer.video.srcObject = stream;
  await viewer.video.play();
  viewer.showCanvas(null);
  els.webcamStart.disabled = true;
  els.webcamStop.disabled = false;
  let frames = 0;
  const t0 = performance.now();
  const loop = async () => {
    if (!state.webcam) return;
    let ms = 0;
    if (viewer.video.readyState >= 2) {
      ms = await net.stylizeTo(viewer.video, viewer.canvas, Math.min(Number(els.size.value), 384), strengthValue().blend);
      frames++;
      viewer.layout();
      setStatus(`webcam: ${(frames / ((performance.now() - t0) / 1000)).toFixed(1)} frames/s (${tf.getBackend()})`);
    }
    // A slow frame (the CPU backend) is followed by as long a pause, so the page still answers
    // (Stop webcam, the form) instead of painting frames back to back.
    if (ms > 30) window.setTimeout(() => requestAnimationFrame(loop), ms);
    else requestAnimationFrame(loop);
  };
  loop();
}

function stopWebcam(): void {
  if (!state.webcam) return;
  state.webcam.getTracks().forEach((t) => t.stop());
  state.webcam = null;
  els.webcamStart.disabled = false;
  els.webcamStop.disabled = true;
}

// ---------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  els.start.disabled = true;
  clearErrors();
  try {
    const m = method();
    if (m === 'browser') await startInBrowser();
    else await startServerJobs(m);
  } catch (err) {
    const role = (err as { role?: Role }).role;
    const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    showError(message, role);
    setStatus(message, true);
  } finally {
    els.start.disabled = false;
  }
}

function sizeLabel(px: number): string {
  const word = px <= 128 ? 'tiny' : px <= 256 ? 'small' : px <= 512 ? 'medium' : px <= 1024 ? 'large' : 'very large';
  return `${px} px · ${word}`;
}

/** After a reload: the job this page was showing (or one still painting) is shown again. */
async function resumeStage(): Promise<void> {
  let id: string | null = null;
  try {
    id = localStorage.getItem(CURRENT_JOB_KEY);
  } catch {
    // ignore
  }
  const job = id ? await getJob(id).catch(() => null) : null;
  const pick = job ?? gallery.running();
  if (pick) follow(pick);
}

async function init(): Promise<void> {
  setUpSlot('content');
  setUpSlot('style');
  viewer.image.addEventListener('load', () => {
    if (viewer.image.src.includes('/preview')) bump('previewsShown');
  });
  document.querySelectorAll('input[name="method"]').forEach((r) => r.addEventListener('change', updateMethod));
  els.strength.addEventListener('input', updateStrengthLabel);
  // After the other listeners (a quality sets its own size first).
  for (const el of [els.size, els.quality, els.transferMethod, els.iterations]) el.addEventListener('change', () => setTimeout(updatePrintNote, 0));
  $<HTMLImageElement>('#slot-content .drop img.chosen').addEventListener('load', updatePrintNote);
  els.transferMethod.addEventListener('change', () => {
    // Each method's strength starts at its usual balance.
    state.strength.stylize = 100;
    els.strength.value = '100';
    showTransferMethod();
  });
  els.start.addEventListener('click', start);
  els.detailsOpen.addEventListener('click', () => {
    if (state.job) details.open(state.job).catch((e) => showError(String(e.message ?? e)));
  });
  els.cancel.addEventListener('click', () => {
    if (state.job) cancelJob(state.job.id).catch((e) => showError(String(e.message)));
  });
  els.webcamStart.addEventListener('click', () => startWebcam().catch((e) => showError(String(e.message ?? e))));
  els.webcamStop.addEventListener('click', stopWebcam);
  els.fitFile.addEventListener('change', () => {
    const file = els.fitFile.files?.[0];
    els.fitFile.value = '';
    if (file) startFit(file);
  });
  els.fastStyle.addEventListener('change', () => {
    state.fastStyles = [els.fastStyle.value];
    renderFastStyles();
  });
  els.quality.addEventListener('change', () => {
    const q = state.options?.qualities.find((x) => x.name === els.quality.value);
    if (q) {
      els.size.value = String(q.size);
      els.iterations.placeholder = `${q.iterations} (from quality)`;
      els.iterations.value = '';
    }
  });
  els.preset.addEventListener('change', () => {
    const p = state.options?.presets.find((x) => x.name === els.preset.value);
    els.preset.title = p ? `${p.description} (${p.source})` : '';
    $<HTMLElement>('#preset-note').textContent = p ? `Copies ${PRESET_WORDS[p.name] ?? p.name} from the painting.` : '';
  });
  updateMethod();

  const [options, samples, catalog] = await Promise.all([getOptions(), getSamples().catch(() => []), getStyles().catch(() => ({ styles: [], arbitraryModel: null }))]);
  const styles = catalog.styles;
  state.options = options;
  state.styles = styles;
  state.arbitraryModel = catalog.arbitraryModel;
  state.samples = samples;
  const sizes = [64, 128, 256, 384, 512, 768, 1024, 1536].filter((s) => s >= options.limits.minSize && s <= options.limits.maxSize && !PRINT_SIZES.includes(s));
  els.size.replaceChildren(...sizes.map((s) => new Option(sizeLabel(s), String(s))));
  prints.offer(options.limits.maxSize);
  els.quality.replaceChildren(...options.qualities.map((q) => new Option(`${q.name[0].toUpperCase()}${q.name.slice(1)} · ${q.size} px`, q.name)));
  els.quality.value = options.defaultQuality;
  els.quality.dispatchEvent(new Event('change'));
  // The transfer methods, with the server's default chosen; hidden where the server offers none.
  const methods = options.transferMethods ?? [];
  els.transferMethod.replaceChildren(...methods.map((t) => new Option(TRANSFER_WORDS[t.name]?.label ?? t.name, t.name)));
  els.transferMethod.value = options.defaultTransferMethod ?? methods[0]?.name ?? '';
  if (methods.length === 0) {
    els.transferMethod.closest('label')!.remove();
    $<HTMLElement>('#transfer-note').remove();
  }
  els.preset.replaceChildren(...options.presets.map((p) => new Option(PRESET_WORDS[p.name] ?? p.name, p.name)));
  els.preset.value = options.defaultPreset;
  els.preset.dispatchEvent(new Event('change'));
  showTransferMethod();
  els.iterations.max = String(options.limits.maxIterations);
  els.fastStyle.replaceChildren(...styles.map((s) => new Option(styleTitle(s), s.name)));
  state.fastStyles = styles.length ? [styles[0].name] : [];
  renderSamples();
  renderFastStyles();
  await gallery.start();
  await resumeStage();
  document.body.dataset.ready = 'true';
}

init().catch((err) => showError(`cannot reach the server: ${err.message}`));
