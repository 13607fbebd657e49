/** Quick styles painted in this browser with TensorFlow.js; the results stay in this browser. */
import type { StyleInfo } from './api.js';
import type { Gallery } from './gallery.js';
import { ArbitraryNet } from './arbitrary-net.js';
import { BrowserStyleNet, chooseBackend, StyleNet } from './fast-net.js';
import { LocalResult, saveLocalResult } from './local-results.js';
import { $, bump, chart, details, els, rel, Role, setStatus, state, viewer } from './page.js';
import { strengthValue } from './settings.js';
import { sampleName } from './upload.js';
import { downloadName } from './words.js';

export async function browserNet(): Promise<BrowserStyleNet> {
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

export async function startInBrowser(gallery: Pick<Gallery, 'reloadLocal'>): Promise<void> {
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

export function showLocal(r: LocalResult): void {
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
