/**
 * A model folder of its own for tests that fit paintings (fitted styles are written into the
 * model folder, never into ../shared): VGG19 and the arbitrary-style transformer linked from the
 * shared models, a writable fast-style/ with a copy of the pretrained 'wave'; and a folder of two
 * small training photos, so that a test fit is short.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODELS_DIR } from './reference';
import { CONTENT_PNG, STYLE_PNG, tempDir } from './server';

export function makeFitModelDir(): string {
  const dir = tempDir('nst-fit-models-');
  fs.symlinkSync(path.join(MODELS_DIR, 'vgg19'), path.join(dir, 'vgg19'));
  fs.symlinkSync(path.join(MODELS_DIR, 'arbitrary-style'), path.join(dir, 'arbitrary-style'));
  fs.mkdirSync(path.join(dir, 'fast-style'));
  // Copied, not linked: the styles list takes real folders only.
  fs.cpSync(path.join(MODELS_DIR, 'fast-style', 'wave'), path.join(dir, 'fast-style', 'wave'), { recursive: true });
  return dir;
}

export function makeFitPhotosDir(): string {
  const dir = tempDir('nst-fit-photos-');
  fs.copyFileSync(CONTENT_PNG, path.join(dir, 'photo.png'));
  fs.copyFileSync(STYLE_PNG, path.join(dir, 'painting-as-photo.png'));
  return dir;
}

/** A short fit for tests: one stage of `evaluations` at 64 px. */
export const SHORT_FIT = { fitSizes: [64], fitEvaluations: [4] };
