import { ApplicationFailure, Context } from '@temporalio/activity';
import { parseIcebergSettings } from '../src/config/iceberg-settings';
import { IncompatibleSchemaError, UnauthorizedError, ForbiddenError } from '../src/iceberg/errors';
import { SalesforceAuthError } from '../src/salesforce/auth';
import { SalesforceApiError } from '../src/salesforce/client';
import { UnknownObjectError } from '../src/salesforce/describe';
import { SalesforceSettingsError, parseSalesforceSettings } from '../src/salesforce/settings';
import {
  cleanupObject,
  commitObject,
  extractObject,
  prepareObject,
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

/** The activities of a sync, bound to one worker's context (clients built from its environment). */
export function createActivities(ctx: SyncContext) {
  return {
    async prepareObject(input: ObjectSyncInput): Promise<PreparedObject> {
      return prepareObject(ctx, input).catch(classify);
    },

    async extractObject(prepared: PreparedObject): Promise<Awaited<ReturnType<typeof extractObject>>> {
      const activity = Context.current();
      return extractObject(ctx, prepared, (p) => {
        // Readable in the Web UI: rows and files so far, and where the read stands.
        activity.heartbeat({ object: prepared.object, rows: p.rows, files: p.files, last: p.last });
      }).catch(classify);
    },

    async commitObject(prepared: PreparedObject, staging: string): Promise<Awaited<ReturnType<typeof commitObject>>> {
      return commitObject(ctx, prepared, staging).catch(classify);
    },

    async cleanupObject(prepared: PreparedObject): Promise<number> {
      return cleanupObject(ctx, prepared);
    },
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;

/** Settings problems at worker start, as a list (empty when all is well). */
export function configurationProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const validate of [parseSalesforceSettings, parseIcebergSettings]) {
    try {
      validate(env);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}
