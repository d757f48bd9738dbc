import { ApplicationFailure, Context } from '@temporalio/activity';
import { settingsProblems } from '../src/config/settings';
import { IncompatibleSchemaError, UnauthorizedError, ForbiddenError } from '../src/iceberg/errors';
import { SalesforceAuthError } from '../src/salesforce/auth';
import { SalesforceApiError } from '../src/salesforce/client';
import { UnknownObjectError } from '../src/salesforce/describe';
import { SalesforceSettingsError } from '../src/salesforce/settings';
import {
  cleanupObject,
  commitObject,
  extractObject,
  prepareObject,
  type CommitSummary,
  type ExtractProgress,
  type ExtractResult,
  type ObjectSyncInput,
  type PreparedObject,
  type SyncContext,
} from '../src/sync/object-sync';

/**
 * Failures that retrying cannot fix become non-retryable ApplicationFailures with a message a
 * person can act on; everything else is retried by Temporal's policy.
 */
function classify(error: unknown): never {
  const e = error as Error;
  const fatal =
    e instanceof SalesforceAuthError ||
    e instanceof SalesforceSettingsError ||
    e instanceof UnknownObjectError ||
    e instanceof IncompatibleSchemaError ||
    e instanceof UnauthorizedError ||
    e instanceof ForbiddenError ||
    (e instanceof SalesforceApiError && !e.retryable);
  if (fatal) throw ApplicationFailure.nonRetryable(e.message, e.name);
  throw e;
}

/**
 * Runs an activity's work while heartbeating every second (the SDK throttles what it sends), so a
 * worker that dies is noticed within the heartbeat timeout even while one call (a Bulk job being
 * prepared, a commit) takes long. `details` gives what the Web UI shows for the activity.
 */
async function heartbeating<T>(work: (signal: AbortSignal) => Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  const activity = Context.current();
  const timer = setInterval(() => activity.heartbeat(details()), 1_000);
  try {
    activity.heartbeat(details());
    return await work(activity.cancellationSignal);
  } catch (error) {
    return classify(error);
  } finally {
    clearInterval(timer);
  }
}

/** The activities of a sync, bound to one worker's context (clients built from its environment). */
export function createActivities(ctx: SyncContext & { checkpointMs?: number }) {
  return {
    async prepareObject(input: ObjectSyncInput): Promise<PreparedObject> {
      return heartbeating(() => prepareObject(ctx, input), () => ({ object: input.object, stage: 'preparing' }));
    },

    async extractObject(prepared: PreparedObject): Promise<ExtractResult> {
      // A retry reads on from the last checkpoint the failed attempt reported.
      const before = Context.current().info.heartbeatDetails as ExtractHeartbeat | undefined;
      let now: ExtractHeartbeat = { object: prepared.object, rows: before?.checkpoint?.rows ?? 0, files: before?.checkpoint?.files ?? 0, checkpoint: before?.checkpoint, resumedFrom: before?.checkpoint?.rows };
      return heartbeating(
        (signal) =>
          extractObject(ctx, prepared, {
            resume: before?.checkpoint,
            checkpointMs: ctx.checkpointMs,
            signal,
            // Readable in the Web UI: rows and files so far, and where the read stands.
            progress: (p) => (now = { ...now, ...p }),
          }),
        () => now,
      );
    },

    async commitObject(prepared: PreparedObject, staging: string): Promise<CommitSummary> {
      return heartbeating(() => commitObject(ctx, prepared, staging), () => ({ object: prepared.object, stage: 'committing' }));
    },

    async cleanupObject(prepared: PreparedObject): Promise<number> {
      return heartbeating(() => cleanupObject(ctx, prepared), () => ({ object: prepared.object, stage: 'cleaning up' }));
    },
  };
}

/** What an extraction reports in its heartbeats (and reads back from them on retry). */
export interface ExtractHeartbeat extends ExtractProgress {
  object: string;
  resumedFrom?: number;
}

export type SyncActivities = ReturnType<typeof createActivities>;

/** Settings problems at worker start, as a list (empty when all is well): every area's schema, and names that look like typos. */
export function configurationProblems(env: Record<string, string | undefined>): string[] {
  return settingsProblems(env);
}
