import { describe, expect, it } from 'vitest';
import { EnvFileError } from '../../src/config/env-file';
import { ERROR_CODES, SyncError } from '../../src/errors';
import {
  AlreadyExistsError,
  BadRequestError,
  CatalogUnavailableError,
  CommitConflictError,
  CommitStateUnknownError,
  ForbiddenError,
  IncompatibleSchemaError,
  NotFoundError,
  UnauthorizedError,
} from '../../src/iceberg/errors';
import { SalesforceAuthError, SalesforceUnreachableError } from '../../src/salesforce/auth';
import { ApiBudgetExceededError } from '../../src/salesforce/budget';
import { CsvFormatError } from '../../src/salesforce/bulk-csv';
import { BulkJobFailedError, BulkJobGoneError, BulkUnavailableError } from '../../src/salesforce/bulk-reader';
import { SalesforceApiError } from '../../src/salesforce/client';
import { UnknownObjectError } from '../../src/salesforce/describe';
import { SalesforceSettingsError } from '../../src/salesforce/settings';
import { classifyFailure, toSyncError } from '../../src/sync/failures';

/** An error as the AWS SDK throws it: its name is S3's error code. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

/** What undici's fetch throws when a host name does not resolve, or a port refuses. */
function fetchFailed(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} nowhere.invalid`), { code, hostname: 'nowhere.invalid' }) });
}

describe('failure classification: retry only what can heal', () => {
  const budget = new ApiBudgetExceededError({ name: 'DailyApiRequests', used: 900, max: 1000, share: 0.8 });
  const cases: [string, unknown, boolean, string, RegExp][] = [
    [
      'refused Salesforce login',
      new SalesforceAuthError('Salesforce refused the SecurityToken login of u: INVALID_LOGIN: bad', 'INVALID_LOGIN'),
      false,
      'SALESFORCE_AUTH',
      /INVALID_LOGIN/,
    ],
    ['Salesforce settings missing', new SalesforceSettingsError('SOURCES__SALESFORCE__CREDENTIALS__USERNAME: not set'), false, 'SETTINGS_INVALID', /USERNAME: not set/],
    ['an env file with syntax errors', new EnvFileError('.env', [{ line: 3, message: 'no = sign' }]), false, 'SETTINGS_INVALID', /^\.env line 3: no = sign$/],
    ['unknown object', new UnknownObjectError('Nope__c'), false, 'UNKNOWN_OBJECT', /Nope__c/],
    ['Salesforce 400 (invalid SOQL)', new SalesforceApiError('MALFORMED_QUERY: x', 'MALFORMED_QUERY', 400, false), false, 'SALESFORCE_REFUSED', /MALFORMED_QUERY/],
    [
      'an expired query locator (the retry queries again from its checkpoint)',
      new SalesforceApiError('INVALID_QUERY_LOCATOR: invalid query locator', 'INVALID_QUERY_LOCATOR', 400, false),
      true,
      'QUERY_LOCATOR_EXPIRED',
      /INVALID_QUERY_LOCATOR/,
    ],
    [
      'an expired session given by InstanceAuth',
      new SalesforceApiError('Salesforce answered GET /x with 401 INVALID_SESSION_ID: expired', 'INVALID_SESSION_ID', 401, false),
      false,
      'SALESFORCE_SESSION_EXPIRED',
      /INVALID_SESSION_ID/,
    ],
    [
      'an API version the org does not offer',
      new SalesforceApiError('This org does not offer Salesforce API version 99.0', 'API_VERSION_NOT_OFFERED', 404, false),
      false,
      'API_VERSION_NOT_OFFERED',
      /99\.0/,
    ],
    [
      'a Salesforce host that does not resolve (the client)',
      new SalesforceApiError('Salesforce: the host x does not resolve (ENOTFOUND): check SOURCES__SALESFORCE__DOMAIN and the instance URL.', 'HOST_NOT_FOUND', 0, false),
      false,
      'HOST_NOT_FOUND',
      /^Salesforce: the host x does not resolve \(ENOTFOUND\): check SOURCES__SALESFORCE__DOMAIN and the instance URL\.$/,
    ],
    [
      'a Salesforce login host that does not resolve',
      new SalesforceUnreachableError('Could not reach Salesforce at https://nowhere.invalid: the host nowhere.invalid does not resolve (ENOTFOUND)', fetchFailed('ENOTFOUND')),
      false,
      'HOST_NOT_FOUND',
      /^Could not reach Salesforce at https:\/\/nowhere\.invalid: the host nowhere\.invalid does not resolve \(ENOTFOUND\): check the address settings \(SOURCES__SALESFORCE__DOMAIN, ICEBERG_CATALOG_URI, S3_ENDPOINT\)\.$/,
    ],
    [
      'a Salesforce login port refusing',
      new SalesforceUnreachableError('Could not reach Salesforce at https://x: nothing listens', fetchFailed('ECONNREFUSED')),
      true,
      'SALESFORCE_UNREACHABLE',
      /nothing listens/,
    ],
    ['Salesforce 503', new SalesforceApiError('Salesforce answered 503', 'SERVER_UNAVAILABLE', 503, true), true, 'SALESFORCE_UNAVAILABLE', /503/],
    ['Salesforce request limit', new SalesforceApiError('REQUEST_LIMIT_EXCEEDED', 'REQUEST_LIMIT_EXCEEDED', 403, true), true, 'SALESFORCE_REQUEST_LIMIT', /REQUEST_LIMIT/],
    [
      'Salesforce not answering after every attempt',
      new SalesforceApiError('Salesforce did not answer GET /x: reset', 'CONNECTION', 0, true),
      true,
      'SALESFORCE_UNREACHABLE',
      /did not answer/,
    ],
    ['the API budget used up (stop)', budget, false, 'API_BUDGET_EXCEEDED', /^The Salesforce API budget is used up/],
    [
      'a Bulk job Salesforce failed (its window cannot be split further)',
      new BulkJobFailedError('750x', 'QUERY_TIMEOUT: too long'),
      false,
      'BULK_JOB_FAILED',
      /^Bulk query job 750x failed in Salesforce: QUERY_TIMEOUT/,
    ],
    ['a Bulk job gone under a resumed read (the retry starts a new job)', new BulkJobGoneError('Bulk query job 750x no longer exists'), true, 'BULK_JOB_GONE', /750x/],
    ['Bulk refused for the object with SALESFORCE_READ_API=bulk', new BulkUnavailableError('INVALIDENTITY: not supported'), false, 'BULK_UNAVAILABLE', /INVALIDENTITY/],
    ['a Bulk result page cut short', new CsvFormatError('unterminated quote'), true, 'BULK_CSV_MALFORMED', /not valid CSV/],
    ['catalog 401', new UnauthorizedError('load table: 401', 401), false, 'CATALOG_UNAUTHORIZED', /401/],
    ['catalog 403', new ForbiddenError('commit: 403', 403), false, 'CATALOG_FORBIDDEN', /403/],
    ['catalog 400 on a commit', new BadRequestError('commit to x.y: 400 bad requirement', 400), false, 'CATALOG_REFUSED', /^The catalog refused the request: .*400/],
    ['catalog 404 (unknown warehouse, table gone)', new NotFoundError('load table x.y: 404', 404), false, 'CATALOG_NOT_FOUND', /does not know .*404/],
    ['catalog 409 on a create nobody expected', new AlreadyExistsError('create: 409', 409), true, 'CATALOG_ALREADY_EXISTS', /409/],
    ['schema the table cannot take', new IncompatibleSchemaError('has no column "id"'), false, 'SCHEMA_INCOMPATIBLE', /no column "id"/],
    ['catalog 409 conflict', new CommitConflictError('conflict', 409), true, 'COMMIT_CONFLICT', /conflict/],
    ['catalog 5xx on a commit', new CommitStateUnknownError('502', 502), true, 'COMMIT_STATE_UNKNOWN', /502/],
    [
      'catalog port refusing',
      Object.assign(new CatalogUnavailableError('unreachable (ECONNREFUSED)'), { cause: fetchFailed('ECONNREFUSED') }),
      true,
      'CATALOG_UNAVAILABLE',
      /ECONNREFUSED/,
    ],
    [
      'catalog host that does not resolve',
      Object.assign(new CatalogUnavailableError('unreachable'), { cause: fetchFailed('ENOTFOUND') }),
      false,
      'HOST_NOT_FOUND',
      /nowhere\.invalid does not resolve \(ENOTFOUND\)/,
    ],
    ['S3 wrong secret key', s3Error('SignatureDoesNotMatch', 403), false, 'S3_BAD_SIGNATURE', /S3_SECRET_ACCESS_KEY.*SignatureDoesNotMatch, HTTP 403/],
    ['S3 unknown access key', s3Error('InvalidAccessKeyId', 403), false, 'S3_UNKNOWN_ACCESS_KEY', /S3_ACCESS_KEY_ID/],
    ['S3 access denied', s3Error('AccessDenied', 403), false, 'S3_ACCESS_DENIED', /permissions on the bucket/],
    ['S3 missing bucket', s3Error('NoSuchBucket', 404), false, 'S3_NO_SUCH_BUCKET', /bucket .* does not exist/],
    ['S3 wrong region', s3Error('AuthorizationHeaderMalformed', 400), false, 'S3_WRONG_REGION', /S3_REGION/],
    ['S3 slow down', s3Error('SlowDown', 503), true, 'S3_ERROR', /SlowDown/],
    ['a dropped connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true, 'NETWORK', /hang up/],
    ['anything unforeseen', new Error('something odd'), true, 'UNEXPECTED', /^something odd$/],
  ];
  for (const [what, error, retryable, code, message] of cases) {
    it(`${what}: ${retryable ? 'retried' : 'not retried'}, ${code}`, () => {
      const c = classifyFailure(error);
      expect(c.retryable).toBe(retryable);
      expect(c.code).toBe(code);
      expect(c.message).toMatch(message);
    });
  }

  it("the product's errors pass classification as they are; foreign ones are wrapped, keeping them as the cause", () => {
    const own = cases.map(([, e]) => e).filter((e): e is SyncError => e instanceof SyncError);
    const reworded = own.filter((e) => toSyncError(e) !== e);
    // Only a host that does not resolve is re-worded, with the settings to check.
    expect(reworded.map((e) => [e.name, toSyncError(e).code])).toEqual([
      ['SalesforceUnreachableError', 'HOST_NOT_FOUND'],
      ['CatalogUnavailableError', 'HOST_NOT_FOUND'],
    ]);
    const foreign = s3Error('SignatureDoesNotMatch', 403);
    const wrapped = toSyncError(foreign);
    expect(wrapped).toBeInstanceOf(SyncError);
    expect(wrapped.cause).toBe(foreign);
  });

  it('every code in use is one of ERROR_CODES', () => {
    const known = new Set<string>(Object.values(ERROR_CODES));
    for (const [, error] of cases) expect(known).toContain(classifyFailure(error).code);
  });
});
