/**
 * Scale-out: jobs on BullMQ (Redis) run by worker processes on any number of machines, their files
 * in shared storage (src/storage). The HTTP server plugs a DistributedQueue in through its job
 * runner; without one it keeps its embedded SQLite queue. See docs/scale-out.md.
 */
export { BullJobQueue } from './bullmq-queue';
export type { BullQueueOptions } from './bullmq-queue';
export { startQueueWorker, WORKER_DEFAULTS } from './worker';
export type { QueueWorkerOptions, RunningQueueWorker } from './worker';
export { PAYLOAD_VERSION, QUEUE_NAME } from './protocol';
export type { JobPayload, WorkerMessage, WorkerResult } from './protocol';
export { checkRedisUrl, redactRedisUrl } from './redis';
export type { DistributedQueue, JobSink } from './types';
