import { describe, expect, it } from 'vitest';
import { BadRequestError, CatalogUnavailableError, CommitConflictError, CommitStateUnknownError, ForbiddenError, IncompatibleSchemaError, NotFoundError, UnauthorizedError } from '../../src/iceberg/errors';
import { SalesforceAuthError } from '../../src/salesforce/auth';
import { SalesforceApiError } from '../../src/salesforce/client';
import { UnknownObjectError } from '../../src/salesforce/describe';
import { classifyFailure } from '../../src/sync/failures';

/** An error as the AWS SDK throws it: its name is S3's error code. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

/** What undici's fetch throws when a host name does not resolve, or a port refuses. */
function fetchFailed(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} nowhere.invalid`), { code, hostname: 'nowhere.invalid' }) });
}

describe('failure classification: retry only what can heal', () => {
  const cases: [string, unknown, boolean, RegExp][] = [
    ['refused Salesforce login', new SalesforceAuthError('Salesforce refused the SecurityToken login of u: INVALID_LOGIN: bad', 'INVALID_LOGIN'), false, /INVALID_LOGIN/],
    ['unknown object', new UnknownObjectError('Nope__c'), false, /Nope__c/],
    ['Salesforce 400 (invalid SOQL)', new SalesforceApiError('MALFORMED_QUERY: x', 'MALFORMED_QUERY', 400, false), false, /MALFORMED_QUERY/],
    ['an expired query locator (the retry queries again from its checkpoint)', new SalesforceApiError('INVALID_QUERY_LOCATOR: invalid query locator', 'INVALID_QUERY_LOCATOR', 400, false), true, /INVALID_QUERY_LOCATOR/],
    ['Salesforce 503', new SalesforceApiError('Salesforce answered 503', 'SERVER_UNAVAILABLE', 503, true), true, /503/],
    ['Salesforce request limit', new SalesforceApiError('REQUEST_LIMIT_EXCEEDED', 'REQUEST_LIMIT_EXCEEDED', 403, true), true, /REQUEST_LIMIT/],
    ['catalog 401', new UnauthorizedError('load table: 401', 401), false, /401/],
    ['catalog 403', new ForbiddenError('commit: 403', 403), false, /403/],
    ['catalog 400 on a commit', new BadRequestError('commit to x.y: 400 bad requirement', 400), false, /^The catalog refused the request: .*400/],
    ['catalog 404 (unknown warehouse, table gone)', new NotFoundError('load table x.y: 404', 404), false, /does not know .*404/],
    ['schema the table cannot take', new IncompatibleSchemaError('has no column "id"'), false, /no column "id"/],
    ['catalog 409 conflict', new CommitConflictError('conflict', 409), true, /conflict/],
    ['catalog 5xx on a commit', new CommitStateUnknownError('502', 502), true, /502/],
    ['catalog port refusing', Object.assign(new CatalogUnavailableError('unreachable (ECONNREFUSED)'), { cause: fetchFailed('ECONNREFUSED') }), true, /ECONNREFUSED/],
    ['catalog host that does not resolve', Object.assign(new CatalogUnavailableError('unreachable'), { cause: fetchFailed('ENOTFOUND') }), false, /nowhere\.invalid does not resolve \(ENOTFOUND\)/],
    ['S3 wrong secret key', s3Error('SignatureDoesNotMatch', 403), false, /S3_SECRET_ACCESS_KEY.*SignatureDoesNotMatch, HTTP 403/],
    ['S3 unknown access key', s3Error('InvalidAccessKeyId', 403), false, /S3_ACCESS_KEY_ID/],
    ['S3 missing bucket', s3Error('NoSuchBucket', 404), false, /bucket .* does not exist/],
    ['S3 slow down', s3Error('SlowDown', 503), true, /SlowDown/],
    ['a dropped connection', new Error('socket hang up'), true, /hang up/],
  ];
  for (const [what, error, retryable, message] of cases) {
    it(`${what}: ${retryable ? 'retried' : 'not retried'}`, () => {
      const c = classifyFailure(error);
      expect(c.retryable).toBe(retryable);
      expect(c.message).toMatch(message);
    });
  }
});
