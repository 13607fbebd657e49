/** Paint on the server: one job per painting (or quick style) chosen, sent with the settings. */
import { createJob, Job } from './api.js';
import type { Gallery } from './gallery.js';
import { $, els, Role, setStatus, state } from './page.js';
import { strengthValue, transferMethod } from './settings.js';
import { follow } from './stage.js';

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
export async function startServerJobs(m: 'stylize' | 'fast', gallery: Pick<Gallery, 'add'>): Promise<void> {
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
