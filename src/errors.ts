/**
 * The product's one error model. Every error the product throws extends SyncError and says, at the
 * place that knows, whether trying again can help (`retryable`) and what kind of failure it is
 * (`code`, short and stable: it becomes the ApplicationFailure type and the failed object's `code`
 * in the sync's result). Errors from outside (AWS SDK, fetch) are turned into SyncErrors in one
 * place: src/sync/failures.ts. This module imports nothing, so any module may extend it.
 * test/unit/errors.test.ts fails on a plain Error (new Error, TypeError, RangeError, ...) in src/
 * or activities/ (the Salesforce simulator aside): each throw site says its code and whether a
 * retry can help.
 */

/** The codes in use; a new kind of failure adds its own here. */
export const ERROR_CODES = {
  // Settings and credentials
  SETTINGS_INVALID: 'SETTINGS_INVALID',
  INPUT_INVALID: 'INPUT_INVALID', // a sync's input that does not fit the object or its table (a partition or sort column it lacks)
  SALESFORCE_AUTH: 'SALESFORCE_AUTH',
  SALESFORCE_SESSION_EXPIRED: 'SALESFORCE_SESSION_EXPIRED',
  HOST_NOT_FOUND: 'HOST_NOT_FOUND',
  // Salesforce
  SALESFORCE_UNREACHABLE: 'SALESFORCE_UNREACHABLE',
  SALESFORCE_UNAVAILABLE: 'SALESFORCE_UNAVAILABLE',
  SALESFORCE_REQUEST_LIMIT: 'SALESFORCE_REQUEST_LIMIT',
  SALESFORCE_REFUSED: 'SALESFORCE_REFUSED',
  QUERY_LOCATOR_EXPIRED: 'QUERY_LOCATOR_EXPIRED',
  QUERY_TOO_LONG: 'QUERY_TOO_LONG',
  API_VERSION_NOT_OFFERED: 'API_VERSION_NOT_OFFERED',
  UNKNOWN_OBJECT: 'UNKNOWN_OBJECT',
  API_BUDGET_EXCEEDED: 'API_BUDGET_EXCEEDED',
  BULK_UNAVAILABLE: 'BULK_UNAVAILABLE',
  BULK_JOB_FAILED: 'BULK_JOB_FAILED',
  BULK_JOB_GONE: 'BULK_JOB_GONE',
  BULK_CSV_MALFORMED: 'BULK_CSV_MALFORMED',
  OBJECT_NEEDS_FILTER: 'OBJECT_NEEDS_FILTER', // Salesforce answers only queries that filter the object by some Ids (ContentDocumentLink): it cannot be read whole
  COUNT_MISMATCH: 'COUNT_MISMATCH', // the table's live rows differ from Salesforce's count, and SYNC_COUNT_CHECK=fail
  RECONCILE_REFUSED: 'RECONCILE_REFUSED', // a reconciliation that would remove more of a table than SYNC_RECONCILE_MAX_PERCENT allows
  // Iceberg catalog
  CATALOG_UNAUTHORIZED: 'CATALOG_UNAUTHORIZED',
  CATALOG_FORBIDDEN: 'CATALOG_FORBIDDEN',
  CATALOG_REFUSED: 'CATALOG_REFUSED',
  CATALOG_NOT_FOUND: 'CATALOG_NOT_FOUND',
  CATALOG_ALREADY_EXISTS: 'CATALOG_ALREADY_EXISTS',
  CATALOG_UNAVAILABLE: 'CATALOG_UNAVAILABLE',
  COMMIT_CONFLICT: 'COMMIT_CONFLICT',
  COMMIT_STATE_UNKNOWN: 'COMMIT_STATE_UNKNOWN',
  SCHEMA_INCOMPATIBLE: 'SCHEMA_INCOMPATIBLE',
  ATOMIC_PUBLISH_UNSUPPORTED: 'ATOMIC_PUBLISH_UNSUPPORTED', // an atomic sync on a catalog (or destination) that cannot commit tables together
  ATOMIC_PUBLISH_PARTIAL: 'ATOMIC_PUBLISH_PARTIAL', // a transaction the catalog applied to some tables only
  // Tables and data (none heals by retrying: the same table, file or value fails again)
  TABLE_UNSUPPORTED: 'TABLE_UNSUPPORTED', // a table feature this product does not read or write (equality deletes, an Avro codec, a type)
  TABLE_INVALID: 'TABLE_INVALID', // metadata or files that contradict themselves or the Iceberg spec
  VALUE_INVALID: 'VALUE_INVALID', // a value from Salesforce that does not fit its column
  UNKNOWN_FIELD: 'UNKNOWN_FIELD', // the object lacks a field the read needs (removed in Salesforce since the sync was prepared)
  // Reading and writing
  SPLIT_READ_OUT_OF_STEP: 'SPLIT_READ_OUT_OF_STEP', // the queries of a split read saw different rows (records changed meanwhile): retried
  PARQUET_ENCODER_FAILED: 'PARQUET_ENCODER_FAILED', // an encoder thread failed or exited (a fresh one may succeed): retried
  // Preflight (npm run check, the worker's start): a check's outcome, never retried
  CHECK_FAILED: 'CHECK_FAILED',
  CHECK_SKIPPED: 'CHECK_SKIPPED',
  // S3 (from the AWS SDK's error names)
  S3_UNKNOWN_ACCESS_KEY: 'S3_UNKNOWN_ACCESS_KEY',
  S3_BAD_SIGNATURE: 'S3_BAD_SIGNATURE',
  S3_ACCESS_DENIED: 'S3_ACCESS_DENIED',
  S3_NO_SUCH_BUCKET: 'S3_NO_SUCH_BUCKET',
  S3_INVALID_BUCKET: 'S3_INVALID_BUCKET',
  S3_WRONG_REGION: 'S3_WRONG_REGION',
  S3_WRONG_ENDPOINT: 'S3_WRONG_ENDPOINT',
  S3_ERROR: 'S3_ERROR',
  // A broken invariant of the product's own code: a bug, which retrying repeats (not retried)
  INTERNAL: 'INTERNAL',
  // Anything else: a dropped connection, or a fault nobody classified (retried, as it may heal)
  NETWORK: 'NETWORK',
  UNEXPECTED: 'UNEXPECTED',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface SyncErrorOptions {
  code: ErrorCode;
  retryable: boolean;
  cause?: unknown;
}

/** A failure of the product: what happened (`message`), whether a retry can help, and its kind. */
export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(message: string, opts: SyncErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code;
    this.retryable = opts.retryable;
    this.name = new.target.name;
  }

  /**
   * What a person reads when this failure ends a step: the message, unless the kind of error adds
   * what it means for the sync (see the catalog's 400 and 404).
   */
  get failureMessage(): string {
    return this.message;
  }
}

export function isSyncError(error: unknown): error is SyncError {
  return error instanceof SyncError;
}
