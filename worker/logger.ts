import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { partitionTaskQueue } from '../src/sync/objects';

/**
 * Temporal's logger, less one line: the SDK warns that a worker with no workflows does not poll
 * for workflow tasks, which is exactly what the partition task queue's worker is for (it runs
 * extractPartition only). Every other line is the SDK's own.
 */
export class WorkerLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const queue = meta?.taskQueue;
    if (message.startsWith('No workflows registered') && typeof queue === 'string' && queue.endsWith(partitionTaskQueue(''))) return;
    super.log(level, message, meta);
  }
}
