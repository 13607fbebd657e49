export { BYTES_PER_LOADED_PIXEL, checkSideFits, DEFAULT_MAX_PIXELS, imageMemoryPixels, imageSize, largestSideWithin, loadImage, loadImageFromBuffer } from './load';
export type { LoadOptions, RgbImage } from './load';
export { ACCEPTED_IMAGE_FORMATS, FORMAT_EXTENSION, sniffImageFormat } from './formats';
export type { ImageFormat } from './formats';
export { OUTPUT_EXTENSIONS, checkOutputPath, encodeImage, outputFormatFor, saveImage } from './save';
export type { OutputFormat, SaveOptions } from './save';
export {
  assertRgbImage,
  imageStats,
  luminancePreserveColors,
  resizeRgb,
  rgbToYuv,
  yuvToRgb,
} from './convert';
export type { YuvImage } from './convert';
export { colourMoments, matchColourStatistics } from './colour-transfer';
export type { ColourMoments } from './colour-transfer';
export { loadMask } from './mask';
export type { Mask } from './mask';
