/**
 * Which style vector `nst fast` paints with, when it uses the arbitrary-style transformer: fitted
 * styles by name (`--style a,b` with `--style-blend-weights`), paintings fitted on the fly and
 * cached by their hash (`--style-image`), and the strength (interpolation from the photo's own
 * vector, the vector fitted to the photo itself, at 0 to the style at 1); and how the one pass is
 * finished: the scale it paints at and how far the painting's palette is matched. Validated up front.
 */
import * as path from 'node:path';
import { NstError } from '../../errors';
import { installModelDir } from '../../models/model-dir';
import { resolveStyle } from '../fast/styles';
import { requireFile } from '../validate';
import { checkPaintScale } from './paint-scale';
import { checkPaletteMatch } from './palette-match';
import { CLOSE_UP_FINISH, StyleFinish } from './finish-choice';
import { isStyleFile, readStyleFile, StyleFile } from './style-file';

/**
 * How a fitted style finishes its one pass when its file records no choice of its own (issue 24,
 * docs/fitted-styles-quality.md): painted at 1.5× the photo's size and resized back (finer strokes
 * keep the photo's forms), then half-way to the painting's OkLAB palette (the style the finer
 * strokes lose shows in the colours). Fits now choose per style (finish-choice.ts): this finish
 * where the vector loses a close-up, the plain pass where it keeps one. Only the arbitrary-style
 * path: the pretrained Johnson networks paint as they always did.
 */
export const FITTED_STYLISE_DEFAULTS: StyleFinish = CLOSE_UP_FINISH;

/** The finish a style file asks for: its fit's choice, or FITTED_STYLISE_DEFAULTS. */
export function defaultFinishOf(style: StyleFile): StyleFinish {
  return style.finish ? { paintScale: style.finish.paintScale, paletteMatch: style.finish.paletteMatch } : { ...FITTED_STYLISE_DEFAULTS };
}

/**
 * The finish of a selection once its styles are known: what the user gave, else the styles' own
 * (a blend takes the weighted mean of each setting).
 */
export function finishOfSelection(selection: Pick<ArbitrarySelection, 'paintScale' | 'paletteMatch' | 'weights'>, styles: StyleFile[]): StyleFinish {
  const own = styles.map(defaultFinishOf);
  const mean = (key: keyof StyleFinish) => own.reduce((sum, f, i) => sum + selection.weights[i] * f[key], 0);
  return { paintScale: selection.paintScale ?? mean('paintScale'), paletteMatch: selection.paletteMatch ?? mean('paletteMatch') };
}

export type StyleSource = { kind: 'fitted'; name: string; file: string } | { kind: 'painting'; painting: string };

export interface ArbitrarySelection {
  sources: StyleSource[];
  /** Blend weights, normalised to sum 1. */
  weights: number[];
  /** 1: the style; 0: the photo's own vector; in between: interpolated. */
  strength: number;
  /** Where vectors fitted on the fly are cached, by the image's SHA-256. */
  cacheDir: string;
  /** Loss evaluations per stage of an on-the-fly fit (default: the fit defaults). */
  fitEvaluations?: number[];
  /** Photo sizes per stage of an on-the-fly fit (default: the fit defaults, or 256 px per stage). */
  fitSizes?: number[];
  /** Training photos of an on-the-fly fit (default: the fit default). */
  photos?: string;
  /** Paint at this multiple of the photo's size, then resize back (paint-scale.ts); undefined: the styles' own (finishOfSelection). */
  paintScale?: number;
  /** 0–1: how far the output moves toward the painting's OkLAB palette (palette-match.ts); undefined: the styles' own. */
  paletteMatch?: number;
  label: string;
}

export interface ArbitraryStyleOptions {
  style?: string;
  model?: string;
  /** Paintings to fit on the fly (cached by hash): a file, or several. */
  styleImage?: string | string[];
  styleBlendWeights?: number[];
  styleStrength?: number;
  fitEvaluations?: number[];
  fitSizes?: number[];
  photos?: string;
  /** Fitted styles: paint at this multiple of the photo's size (default: the style's own, finishOfSelection). */
  paintScale?: number;
  /** Fitted styles: 0–1, how far to match the painting's palette (default: the style's own). */
  paletteMatch?: number;
  modelDir?: string;
}

/** The folder of vectors fitted on the fly. */
export function styleCacheDir(modelDir?: string): string {
  return path.join(installModelDir(modelDir), 'style-cache');
}

/** undefined when the options select a trained network (the Johnson path). */
export function resolveArbitrarySelection(o: ArbitraryStyleOptions): ArbitrarySelection | undefined {
  const names = (o.style ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const paintings = (Array.isArray(o.styleImage) ? o.styleImage : o.styleImage ? o.styleImage.split(',') : []).map((s) => s.trim()).filter(Boolean);
  const fittedOnly = o.styleBlendWeights !== undefined || o.styleStrength !== undefined || o.paintScale !== undefined || o.paletteMatch !== undefined;
  if (paintings.length === 0 && names.length === 1) {
    const entry = resolveStyle(names[0], o.modelDir);
    if (!isStyleFile(entry.path)) {
      if (fittedOnly) throw new NstError(`--style-blend-weights, --style-strength, --paint-scale and --palette-match work with fitted styles ('${names[0]}' is a trained network)`);
      return undefined;
    }
  }
  if (names.length === 0 && paintings.length === 0) {
    if (o.paintScale !== undefined || o.paletteMatch !== undefined) throw new NstError('--paint-scale and --palette-match work with fitted styles (--style NAME of a fitted style, or --style-image)');
    return undefined;
  }
  if (o.model) throw new NstError('give either --model or fitted styles (--style / --style-image), not both');
  const sources: StyleSource[] = [];
  for (const name of names) {
    const entry = resolveStyle(name, o.modelDir);
    if (!isStyleFile(entry.path)) throw new NstError(`style '${name}' is a trained network: only fitted styles blend (fit one with 'nst styles fit')`);
    readStyleFile(entry.path); // a damaged file fails here, before any work
    sources.push({ kind: 'fitted', name, file: entry.path });
  }
  for (const painting of paintings) {
    requireFile(painting, 'style image');
    sources.push({ kind: 'painting', painting });
  }
  const raw = o.styleBlendWeights ?? sources.map(() => 1);
  if (raw.length !== sources.length) throw new NstError(`--style-blend-weights needs ${sources.length} values, one per style (got ${raw.length})`);
  if (!raw.every((w) => Number.isFinite(w) && w >= 0) || raw.reduce((a, b) => a + b, 0) <= 0) {
    throw new NstError('--style-blend-weights must be non-negative numbers with a positive sum');
  }
  const sum = raw.reduce((a, b) => a + b, 0);
  const strength = o.styleStrength ?? 1;
  if (!Number.isFinite(strength) || strength < 0 || strength > 1) throw new NstError(`--style-strength must be from 0 to 1 (got ${strength})`);
  const { paintScale, paletteMatch } = o;
  if (paintScale !== undefined) checkPaintScale(paintScale);
  if (paletteMatch !== undefined) checkPaletteMatch(paletteMatch);
  const label = sources.map((s) => (s.kind === 'fitted' ? s.name : path.basename(s.painting))).join('+');
  return {
    sources,
    weights: raw.map((w) => w / sum),
    strength,
    cacheDir: styleCacheDir(o.modelDir),
    fitEvaluations: o.fitEvaluations,
    fitSizes: o.fitSizes,
    photos: o.photos,
    paintScale,
    paletteMatch,
    label,
  };
}
