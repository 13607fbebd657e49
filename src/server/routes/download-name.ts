/**
 * The file name a downloaded result gets: photo × painting in words, `tubingen-x-starry-night.jpg`
 * (a quick style by its name: `tubingen-x-wave.jpg`; a fitted painting: `feathers.jpg`), with the
 * result's own extension. ASCII only, so every browser keeps it as is.
 */
import type { JobRecord } from '../../jobs/store';
import { slugOf } from '../../jobs/file-words';

export function downloadName(job: Pick<JobRecord, 'method' | 'inputs' | 'params'>, extension: string): string {
  const photo = job.inputs.content ? slugOf(job.inputs.content.name) || 'photo' : '';
  const fastStyle = typeof job.params.fastStyle === 'string' ? job.params.fastStyle : '';
  const painting = job.inputs.style ? slugOf(job.inputs.style.name) || 'painting' : slugOf(fastStyle);
  const words = [photo, painting].filter(Boolean).join('-x-') || 'painting';
  return `${words}${extension}`;
}

/** An attachment header for `name` (ASCII, no quotes: see downloadName). */
export function attachment(name: string): string {
  return `attachment; filename="${name.replace(/["\\\r\n]/g, '')}"`;
}
