/** The registry of job kinds: the `method` field of a job request picks one. */
import { fastKind } from './fast';
import { fitKind } from './fit';
import { stylizeKind } from './stylize';
import type { JobKind } from './types';
import { videoKind } from './video';

export * from './types';
export { QUALITIES, DEFAULT_QUALITY } from './stylize';

export function defaultJobKinds(): Map<string, JobKind> {
  return new Map<string, JobKind>([
    [stylizeKind.name, stylizeKind],
    [fastKind.name, fastKind],
    [videoKind.name, videoKind],
    [fitKind.name, fitKind],
  ]);
}
