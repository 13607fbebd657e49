/**
 * The stage: the job being watched, painted live (previews, progress, a loss chart for the
 * optimisation), then its result with a download, or why there is none; announced when it ends.
 */
import { cancelJob, getJob, Job, LossRow, thumbnailUrl, watchJob } from './api.js';
import { formatSeconds, titleOf } from './gallery.js';
import type { Gallery } from './gallery.js';
import { BASE_TITLE, bump, chart, CURRENT_JOB_KEY, details, els, rel, setStatus, showError, state, viewer } from './page.js';
import { TRANSFER_WORDS } from './transfer-methods.js';
import { stopWebcam } from './webcam.js';
import { PRESET_WORDS } from './words.js';

/** The photo to compare with; a video's frames change, so a video job has none (nor has a fit). */
function beforeOf(job: Job): string | null {
  return job.method === 'video' || !job.inputs.content ? null : thumbnailUrl(job.id, 'content', 1024);
}

/** Shows a job on the stage and follows its events until it ends. */
export function follow(job: Job): void {
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
export function showDeleted(): void {
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

/** The name of the painting a fit job learns, from its file. */
function paintingTitle(job: Job): string {
  return (job.inputs.style?.name ?? 'painting').replace(/^.*\//, '').replace(/\.[a-z0-9]+$/i, '');
}

/** Plain words for a job's settings (the caption under the stage). */
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

/** After a reload: the job this page was showing (or one still painting) is shown again. */
export async function resumeStage(gallery: Pick<Gallery, 'running'>): Promise<void> {
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

/** The stage's own controls: the job's details and Stop; previews counted as they show. */
export function setUpStage(): void {
  viewer.image.addEventListener('load', () => {
    if (viewer.image.src.includes('/preview')) bump('previewsShown');
  });
  els.detailsOpen.addEventListener('click', () => {
    if (state.job) details.open(state.job).catch((e) => showError(String(e.message ?? e)));
  });
  els.cancel.addEventListener('click', () => {
    if (state.job) cancelJob(state.job.id).catch((e) => showError(String(e.message)));
  });
}
