/**
 * Scale-out: jobs on BullMQ (Redis) run by worker processes on any number of machines, their files
 * in shared storage (src/storage). The HTTP server plugs a BullJobQueue in as its JobQueue
 * runner; without one it keeps its embedded SQLite queue. See docs/scale-out.md.
 */
export { BullJobQueue } from './bullmq-queue';
export type { BullQueueOptions } from './bullmq-queue';
export { startQueueWorker, WORKER_DEFAULTS } from './worker';
export type { QueueWorkerOptions, RunningQueueWorker } from './worker';
export { PAYLOAD_VERSION } from '../jobs/protocol';
export { QUEUE_NAME } from './keys';
export type { JobPayload, WorkerMessage, WorkerResult } from '../jobs/protocol';
export { checkRedisUrl, redactRedisUrl } from './redis';
export type { JobQueue, JobSink, QueueHealth } from '../jobs/queue';
/** The former name of JobQueue (a queue whose workers are other processes). */
export type { JobQueue as DistributedQueue } from '../jobs/queue';
