import { ERROR_CODES, SyncError, type ErrorCode } from '../errors';
import { networkCode } from '../net';

/** Whether a failed step may succeed if tried again, and what a person reads about it. */
export interface FailureClass {
  retryable: boolean;
  /** A short stable name for the kind of failure (the ApplicationFailure type, the failed object's code). */
  code: ErrorCode;
  message: string;
}

/** S3 error names that no retry can cure, each with its code and what to check. */
const S3_REFUSALS: Record<string, [ErrorCode, string]> = {
  InvalidAccessKeyId: [ERROR_CODES.S3_UNKNOWN_ACCESS_KEY, "S3 does not know the access key: check S3_ACCESS_KEY_ID (or the catalog's vended credentials)."],
  SignatureDoesNotMatch: [ERROR_CODES.S3_BAD_SIGNATURE, 'S3 refused the request signature: check S3_SECRET_ACCESS_KEY (and S3_REGION).'],
  AccessDenied: [ERROR_CODES.S3_ACCESS_DENIED, "S3 denied access to the warehouse location: check the S3 credentials' permissions on the bucket."],
  NoSuchBucket: [
    ERROR_CODES.S3_NO_SUCH_BUCKET,
    "the bucket of the table's location does not exist: create it, or point the catalog's warehouse at an existing bucket (see S3_BUCKET).",
  ],
  InvalidBucketName: [ERROR_CODES.S3_INVALID_BUCKET, "the table's location names an invalid bucket: check the catalog's warehouse location."],
  AuthorizationHeaderMalformed: [ERROR_CODES.S3_WRONG_REGION, "S3 refused the request's authorization (often a wrong S3_REGION for the bucket)."],
  PermanentRedirect: [ERROR_CODES.S3_WRONG_ENDPOINT, 'the bucket is in another region or endpoint: check S3_REGION and S3_ENDPOINT.'],
};

/**
 * The one place where any failure becomes a SyncError. The product's own errors already know
 * whether retrying can help and pass through; errors from outside are sorted here: S3's refusals
 * (the AWS SDK names the error) and host names that do not resolve, wherever they sit in a cause
 * chain, cannot be cured by retrying; the rest (S3 throttling and 5xx, dropped connections,
 * anything unforeseen) may heal, and Temporal retries them within the activity's bounds.
 */
export function toSyncError(error: unknown): SyncError {
  // A host that does not resolve is named with the settings to check, whoever noticed it.
  if (error instanceof SyncError && !error.retryable && error.code !== ERROR_CODES.HOST_NOT_FOUND) return error;
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const message = e?.message ?? String(error);
  const s3 = S3_REFUSALS[name];
  if (s3) {
    const status = e.$metadata?.httpStatusCode;
    return new SyncError(`${s3[1]} (S3 answered ${name}${status ? `, HTTP ${status}` : ''})`, { code: s3[0], retryable: false, cause: error });
  }
  const net = networkCode(error);
  if (net?.code === 'ENOTFOUND') {
    const said = message.includes('ENOTFOUND') ? message : `${message} — the host name${net.host ? ` ${net.host}` : ''} does not resolve (ENOTFOUND)`;
    return new SyncError(`${said}: check the address settings (SOURCES__SALESFORCE__DOMAIN, ICEBERG_CATALOG_URI, S3_ENDPOINT).`, {
      code: ERROR_CODES.HOST_NOT_FOUND,
      retryable: false,
      cause: error,
    });
  }
  if (error instanceof SyncError) return error;
  const code = e?.$metadata ? ERROR_CODES.S3_ERROR : net ? ERROR_CODES.NETWORK : ERROR_CODES.UNEXPECTED;
  return new SyncError(message, { code, retryable: true, cause: error });
}

/** A failure as the activities report it: retryable or not, its code, and what a person reads. */
export function classifyFailure(error: unknown): FailureClass {
  const e = toSyncError(error);
  return { retryable: e.retryable, code: e.code, message: e.failureMessage };
}
