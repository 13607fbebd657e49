/** Where the BullMQ transport keeps its things in Redis. */

/** The BullMQ queue (Redis keys `bull:nst-jobs:*`). */
export const QUEUE_NAME = 'nst-jobs';

/** Redis key a cancel or delete request is left under; workers poll it while they run the job. */
export const cancelKey = (jobId: string) => `nst:cancel:${jobId}`;
