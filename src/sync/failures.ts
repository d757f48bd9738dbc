import { BadRequestError, ForbiddenError, IncompatibleSchemaError, NotFoundError, UnauthorizedError } from '../iceberg/errors';
import { SalesforceAuthError } from '../salesforce/auth';
import { SalesforceApiError } from '../salesforce/client';
import { UnknownObjectError } from '../salesforce/describe';
import { SalesforceSettingsError } from '../salesforce/settings';
import { networkCode } from '../net';

/** Whether a failed step may succeed if tried again, and what a person reads about it. */
export interface FailureClass {
  retryable: boolean;
  /** A short name for the kind of failure (the ApplicationFailure type). */
  type: string;
  message: string;
}

/** S3 error names that no retry can cure, each with what to check. */
const S3_REFUSALS: Record<string, string> = {
  InvalidAccessKeyId: 'S3 does not know the access key: check S3_ACCESS_KEY_ID (or the catalog\'s vended credentials).',
  SignatureDoesNotMatch: 'S3 refused the request signature: check S3_SECRET_ACCESS_KEY (and S3_REGION).',
  AccessDenied: 'S3 denied access to the warehouse location: check the S3 credentials\' permissions on the bucket.',
  NoSuchBucket: 'the bucket of the table\'s location does not exist: create it, or point the catalog\'s warehouse at an existing bucket (see S3_BUCKET).',
  InvalidBucketName: 'the table\'s location names an invalid bucket: check the catalog\'s warehouse location.',
  AuthorizationHeaderMalformed: 'S3 refused the request\'s authorization (often a wrong S3_REGION for the bucket).',
  PermanentRedirect: 'the bucket is in another region or endpoint: check S3_REGION and S3_ENDPOINT.',
};

const EXPIRED_LOCATORS = new Set(['INVALID_QUERY_LOCATOR', 'INVALID_LOCATOR']);

/**
 * Sorts a failure into "retrying cannot fix it" (refused credentials of any kind, unknown hosts,
 * objects, buckets or warehouses, malformed keys, a request the catalog refuses, a schema the
 * table cannot take) and faults that can heal (5xx, limits, dropped connections, conflicts), which
 * Temporal retries within the activity's bounds.
 */
export function classifyFailure(error: unknown): FailureClass {
  const e = error as Error;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const name = e?.name ?? 'Error';
  const message = e?.message ?? String(error);
  const fatal = (type: string, text = message): FailureClass => ({ retryable: false, type, message: text });
  // An expired query locator heals by asking again: the retry re-queries from its last checkpoint.
  if (e instanceof SalesforceApiError && EXPIRED_LOCATORS.has(e.errorCode)) return { retryable: true, type: name, message };
  if (
    e instanceof SalesforceAuthError ||
    e instanceof SalesforceSettingsError ||
    e instanceof UnknownObjectError ||
    e instanceof IncompatibleSchemaError ||
    e instanceof UnauthorizedError ||
    e instanceof ForbiddenError ||
    (e instanceof SalesforceApiError && !e.retryable)
  ) {
    return fatal(name);
  }
  if (e instanceof BadRequestError) return fatal(name, `The catalog refused the request: ${message}`);
  // After prepare the namespace and table exist: a 404 now (a wrong warehouse, a table dropped
  // meanwhile) does not go away by asking again.
  if (e instanceof NotFoundError) return fatal(name, `The catalog does not know what the sync needs: ${message}`);
  const s3 = S3_REFUSALS[name];
  if (s3) return fatal(`S3${name}`, `${s3} (S3 answered ${name}${status ? `, HTTP ${status}` : ''})`);
  const net = networkCode(error);
  if (net?.code === 'ENOTFOUND') {
    const said = message.includes('ENOTFOUND') ? message : `${message} — the host name${net.host ? ` ${net.host}` : ''} does not resolve (ENOTFOUND)`;
    return fatal('HostNotFound', `${said}: check the address settings (SOURCES__SALESFORCE__DOMAIN, ICEBERG_CATALOG_URI, S3_ENDPOINT).`);
  }
  return { retryable: true, type: name, message };
}
