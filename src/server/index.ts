/** The HTTP server of `nst serve` (web page + API). See docs/http-api.md. */
export { startServer } from './app';
export type { RunningServer, StartOptions } from './app';
export { resolveServeOptions, readTokenFile, SERVE_DEFAULTS, defaultDataDir, isLoopbackHost } from './config';
export type { ServeOptions, ResolvedServeOptions } from './config';
export { defaultJobKinds, QUALITIES } from '../jobs/kinds';
export type { JobKind, JobRunContext, JobOutcome } from '../jobs/kinds';
export type { JobRecord, JobStatus } from '../jobs/store';
