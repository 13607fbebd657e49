/**
 * "Any painting" for the quick styles: a painting chosen here is sent to the server as a fit job;
 * its loss evaluations show as progress, and once it is fitted the painting is a quick style
 * like the others (on the server, and in this browser with the arbitrary-style transformer).
 */
import { createJob, Job, watchJob } from './api.js';

export interface FitPaintingHooks {
  /** The job exists: the page shows it on the stage, with its progress. */
  started?(job: Job): void;
  /** Progress and outcome, in words. */
  status(text: string, error?: boolean): void;
  /** The painting is a style now, under this name; the page shows it among its styles. */
  fitted(name: string, job: Job): Promise<void>;
}

/** Starts fitting `file`; resolves once the job is created (its progress goes to hooks). */
export async function fitPainting(file: File, hooks: FitPaintingHooks): Promise<Job> {
  const form = new FormData();
  form.append('method', 'fit');
  form.append('style', file, file.name);
  const job = await createJob(form);
  const title = file.name.replace(/\.[a-z0-9]+$/i, '');
  hooks.status(`learning the style of “${title}”: waiting for the server…`);
  hooks.started?.(job);
  const stop = watchJob(job.id, {
    onProgress: (p) => {
      const loss = p.losses?.total != null ? ` · loss ${p.losses.total.toPrecision(3)}` : '';
      hooks.status(`learning the style of “${title}”: step ${p.iteration} of ${p.iterations}${loss}`);
    },
    onEnd: (ended) => {
      stop();
      const name = ended.result?.details?.style;
      if (ended.status === 'succeeded' && typeof name === 'string') {
        const how = ended.result?.details?.cached ? 'known already' : `learnt in ${Math.round(ended.result?.seconds ?? 0)} s`;
        // Said only once the page lists the style and has it chosen, so that what the words
        // promise is already on the screen.
        hooks
          .fitted(name, ended)
          .then(() => hooks.status(`“${title}” is a quick style now (${how}): paint a photo with it, here or in this browser`))
          .catch((e) => hooks.status(`“${title}” was learnt, but the list of styles could not be read again: ${e.message ?? e}`, true));
      } else {
        hooks.status(`could not learn the style of “${title}”: ${ended.error ?? ended.status}`, true);
      }
    },
    onError: (message) => hooks.status(message, true),
  });
  return job;
}
