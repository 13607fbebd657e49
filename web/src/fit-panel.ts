/** "Fit a painting": any painting learnt on the server as a quick style. */
import type { Gallery } from './gallery.js';
import { fitPainting } from './fit-painting.js';
import { $, bump, clearErrors, els } from './page.js';
import { reloadStyles } from './quick-styles.js';
import { follow } from './stage.js';

function startFit(file: File, gallery: Pick<Gallery, 'add'>): void {
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

/** A painting chosen in the panel is sent to be learnt; its job joins the gallery. */
export function setUpFitPanel(gallery: Pick<Gallery, 'add'>): void {
  els.fitFile.addEventListener('change', () => {
    const file = els.fitFile.files?.[0];
    els.fitFile.value = '';
    if (file) startFit(file, gallery);
  });
}
