/** Names in words for the page: the file names of downloads, as the server gives them (src/jobs/file-words.ts). */

/** Lower-case ASCII words joined by '-', without folder or extension ("Tübingen.JPG" → "tubingen"). */
export function slugOf(name: string): string {
  const base = name.replace(/^.*[\\/]/, '').replace(/\.[a-z0-9]{1,5}$/i, '');
  return base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
}

/** `tubingen-x-wave.png`: what a painting made in this browser is saved as. */
export function downloadName(photo: string, painting: string, extension: string): string {
  return `${slugOf(photo) || 'photo'}-x-${slugOf(painting) || 'painting'}${extension}`;
}

/** Plain words for the optimisation's layer presets (the technical description is the tooltip). */
export const PRESET_WORDS: Record<string, string> = {
  gatys: 'everything: colours, strokes and shapes',
  'high-level': 'big shapes and forms',
  'soft-content': 'more painting, less photo',
  partial: 'only colours and brush strokes',
  'fine-texture': 'fine brush texture',
};
