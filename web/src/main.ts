/**
 * The page: choose a photo and one or more paintings (upload, drag and drop, or named samples),
 * pick how to paint and a few plain settings (the technical ones behind "Advanced"), press Paint,
 * watch it paint on the stage (live preview, progress, a loss chart for the optimisation), then
 * compare with the photo, zoom, download. The gallery below stays live and offers "Paint again".
 * The in-browser mode runs the quick styles with TF.js and keeps its results in this browser.
 * A short video chosen as the photo switches to video mode: quick styles on the server, progress
 * in frames, and the result plays in a <video>.
 *
 * Each panel is its own module; this one wires them: the gallery's actions, the Paint button, and
 * the start (the server's options, samples and styles, then the job to resume).
 */
import { ApiError, getOptions, getSamples, getStyles } from './api.js';
import { setUpFitPanel } from './fit-panel.js';
import { Gallery } from './gallery.js';
import { showLocal, startInBrowser } from './in-browser.js';
import { $, clearErrors, els, method, Role, setStatus, showError, state } from './page.js';
import { rerun } from './paint-again.js';
import { renderFastStyles, styleThumb } from './quick-styles.js';
import { startServerJobs } from './server-jobs.js';
import { offerServerOptions, setUpSettings, updateMethod } from './settings.js';
import { follow, resumeStage, setUpStage, showDeleted } from './stage.js';
import { renderSamples, setUpSlot } from './upload.js';
import { setUpWebcam } from './webcam.js';

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

/** Paint: in this browser, or one server job per painting chosen. */
async function start(): Promise<void> {
  els.start.disabled = true;
  clearErrors();
  try {
    const m = method();
    if (m === 'browser') await startInBrowser(gallery);
    else await startServerJobs(m, gallery);
  } catch (err) {
    const role = (err as { role?: Role }).role;
    const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    showError(message, role);
    setStatus(message, true);
  } finally {
    els.start.disabled = false;
  }
}

async function init(): Promise<void> {
  setUpSlot('content');
  setUpSlot('style');
  setUpStage();
  setUpSettings();
  els.start.addEventListener('click', start);
  setUpWebcam();
  setUpFitPanel(gallery);
  updateMethod();

  const [options, samples, catalog] = await Promise.all([getOptions(), getSamples().catch(() => []), getStyles().catch(() => ({ styles: [], arbitraryModel: null }))]);
  state.options = options;
  state.styles = catalog.styles;
  state.arbitraryModel = catalog.arbitraryModel;
  state.samples = samples;
  offerServerOptions(options, catalog.styles);
  renderSamples();
  renderFastStyles();
  await gallery.start();
  await resumeStage(gallery);
  document.body.dataset.ready = 'true';
}

init().catch((err) => showError(`cannot reach the server: ${err.message}`));
