/** The optimiser a run asks for, over the image x, inside the displayable range when bounded. */
import { tensor, tidy } from '../../engine';
import type { Vgg19 } from '../../models';
import { Adam, Box, CurvaturePairs, Lbfgs, LbfgsWolfe, Optimizer } from '../../optim';
import { disposePairs } from './warm-start';
import type { ResolvedStylizeOptions } from './options';
import type { Tensor } from '../../engine';

/** Decay of Adam's iterate average: the output is the average over roughly the last 10 steps. */
export const ADAM_AVERAGE_DECAY = 0.9;

/** The box of displayable images (RGB 0…1) in the network's input convention. */
export function imageBox(net: Vgg19, device: string): Box {
  return tidy(() => {
    const black = net.preprocess(tensor([0, 0, 0], [1, 3, 1, 1], device));
    const white = net.preprocess(tensor([1, 1, 1], [1, 3, 1, 1], device));
    return new Box(black.minimum(white), black.maximum(white));
  });
}

export function makeOptimizer(options: ResolvedStylizeOptions, x: Tensor, box: Box | null, warmStart?: CurvaturePairs): Optimizer {
  const bounds = box ?? undefined;
  if (warmStart && (options.optimizer !== 'lbfgs' || options.lineSearch === 'none')) {
    disposePairs(warmStart);
    warmStart = undefined;
  }
  if (options.optimizer === 'adam') return new Adam(x, { learningRate: options.learningRate, box: bounds, averageDecay: ADAM_AVERAGE_DECAY });
  if (options.lineSearch === 'none') return new Lbfgs(x, { learningRate: options.learningRate, history: options.lbfgsHistory, box: bounds });
  return new LbfgsWolfe(x, { learningRate: options.learningRate, history: options.lbfgsHistory, box: bounds, warmStart });
}
