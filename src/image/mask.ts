/** Masks for spatial control: a greyscale image read as one channel in [0,1] (white = 1). */
import { loadImage, LoadOptions } from './load';

export interface Mask {
  width: number;
  height: number;
  data: Float32Array;
}

/** Reads any image as a mask of the given size (the mean of its R, G, B). */
export async function loadMask(path: string, width: number, height: number, options: Pick<LoadOptions, 'maxPixels'> = {}): Promise<Mask> {
  const rgb = await loadImage(path, { width, height, maxPixels: options.maxPixels });
  const n = width * height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rgb.data[i] + rgb.data[n + i] + rgb.data[2 * n + i]) / 3;
  return { width, height, data };
}
