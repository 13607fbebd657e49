/**
 * Names a painter reads: an uploaded file's name without folder or extension ("Tübingen.JPG" →
 * "Tübingen"), and the same as a slug fit for file and style names ("tubingen": ASCII letters
 * and digits joined by '-'), for downloads (`tubingen-x-starry-night.jpg`) and fitted styles.
 */
import * as path from 'node:path';

/** The file's own name: no folder (samples are "style/starry_night.jpg"), no extension. */
export function baseNameOf(fileName: string): string {
  const base = path.posix.basename(fileName.replace(/\\/g, '/'));
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Lower-case ASCII words joined by '-' (accents dropped, at most `max` characters); '' when nothing is left. */
export function slugOf(fileName: string, max = 48): string {
  const slug = baseNameOf(fileName)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}
