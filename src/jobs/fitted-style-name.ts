/**
 * The name a painting fitted from the page gets: its file's name as a slug ("feathers.jpg" →
 * "feathers"), so the page lists it as the painter knows it. Names stay unique: a name taken by a
 * network or by another painting's fit gets a number ("feathers-2"); the same painting again
 * (same SHA-256) keeps its name.
 */
import { readStyleFile } from '../transfer/arbitrary';
import type { StyleEntry } from '../transfer/fast';
import { slugOf } from './file-words';

/** `fileName`: the uploaded painting's name; `sha256`: its bytes'; `styles`: the styles there are now. */
export function fittedStyleName(fileName: string, sha256: string, styles: readonly StyleEntry[]): string {
  const base = slugOf(fileName) || 'painting';
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    const taken = styles.find((s) => s.name === name);
    if (!taken || (taken.kind === 'fitted' && paintingOf(taken.path) === sha256)) return name;
  }
}

function paintingOf(file: string): string | null {
  try {
    return readStyleFile(file).painting.sha256;
  } catch {
    return null; // a damaged file is not this painting's
  }
}
