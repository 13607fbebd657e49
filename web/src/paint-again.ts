/** "Paint again": a gallery job's photo, painting and settings back into the form. */
import type { Job } from './api.js';
import { titleOf } from './gallery.js';
import { $, clearErrors, els, Method, method, rel, Role, setStatus, state } from './page.js';
import { reloadStyles } from './quick-styles.js';
import { showTransferMethod, transferMethod, updateMethod } from './settings.js';
import { showChoices } from './upload.js';
import { setVideoMode } from './video-mode.js';
import { sliderFor } from './transfer-methods.js';

async function asFile(url: string, name: string): Promise<File> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${name} (${res.status})`);
  const blob = await res.blob();
  return new File([blob], name, { type: blob.type });
}

export async function rerun(job: Job): Promise<void> {
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
