/** Video: paint a clip frame by frame without flicker, with either method (fast network or optimisation). */
export { paintVideo, stylizeVideo } from './api';
export { finishStoppedRun, STOP_GRACE_MS } from './stopped-run';
export type { StoppedRunState } from './stopped-run';
export { resolveVideoOptions, frameSize, VIDEO_DEFAULTS } from './options';
export type { VideoOptions, ResolvedVideoOptions } from './options';
export type { VideoMemoryReport, VideoProgress, VideoResult } from './run';
export { probeVideo, decodeFrames, assembleVideo, requireFfmpeg, VIDEO_OUTPUT_EXTENSIONS } from './ffmpeg';
export type { VideoInfo } from './ffmpeg';
export { computeFlow, loadOpenCv, toGrey, FLOW_MAX_SIDE } from './flow';
export type { Flow, Grey, OpenCvModule } from './flow';
export { warpImage, warpFlow } from './warp';
export { consistencyMasks, photometricCertainty } from './consistency';
export type { ConsistencyMasks } from './consistency';
export { meanStyleLoss, temporalWarpingError } from './metrics';
export type { FramePainter, TemporalGuide } from './painter';
