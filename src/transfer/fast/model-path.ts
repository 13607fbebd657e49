/** The network `--style NAME` or `--model PATH` names (`nst fast`, `nst compare`, `nst video`). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { STYLE_MODEL_EXTENSION } from '../../models/style-model-format';
import { CHECKPOINT_SUFFIX, resolveStyle } from './styles';

/** `--model` may be a path or the name of a style; `--style` is a name. */
export function resolveModelPath(options: { style?: string; model?: string; modelDir?: string }): { modelPath: string; styleName: string } {
  if (options.style && options.model) throw new NstError('give either --style or --model, not both');
  if (!options.style && !options.model) throw new NstError("a style is required: --style NAME (see 'nst styles') or --model FILE");
  if (options.model) {
    if (fs.existsSync(options.model)) return { modelPath: options.model, styleName: styleNameOf(options.model) };
    if (!/[\\/]/.test(options.model) && !options.model.endsWith(STYLE_MODEL_EXTENSION)) {
      const entry = resolveStyle(options.model, options.modelDir);
      return { modelPath: entry.path, styleName: entry.name };
    }
    throw new NstError(`style model ${options.model} does not exist`);
  }
  const entry = resolveStyle(options.style!, options.modelDir);
  return { modelPath: entry.path, styleName: entry.name };
}

function styleNameOf(modelPath: string): string {
  const base = path.basename(path.resolve(modelPath));
  return base.replace(CHECKPOINT_SUFFIX, '').replace(STYLE_MODEL_EXTENSION, '');
}
