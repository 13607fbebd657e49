/** Which files of a folder are photos (datasets for `nst train`, folders of photos for `nst fast`). */
import * as path from 'node:path';

/** Image file extensions read from folders (datasets, batches). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}
