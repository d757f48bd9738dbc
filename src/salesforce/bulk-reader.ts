import { SalesforceApiError, type SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import { BulkCsvPage } from './bulk-csv';

/** Bulk API 2.0 cannot run this query (org without Bulk, unsupported object or field): use REST. */
export class BulkUnavailableError extends Error {
  constructor(reason: string) {
    super(`Bulk API 2.0 cannot run this query (${reason}); reading through the REST API instead.`);
    this.name = 'BulkUnavailableError';
  }
}

/** The job a resume point names no longer exists (jobs are deleted after about a week, or by us). */
export class BulkJobGoneError extends Error {}

/** Where a Bulk read resumes while its job lives: the job and the next results locator. */
export interface BulkResume {
  jobId: string;
  locator?: string;
}

export interface BulkPage {
  /** The page's CSV, decoded column by column into builders (`csv.columns`) or as rows. */
  csv: BulkCsvPage;
  /** Rows in the order of `fields`, values as `fromBulkCsv` gives them (built on first use). */
  readonly rows: unknown[][];
  /** Resume point for the page after this one (undefined when this was the last page). */
  next?: BulkResume;
  last?: { id: string; cursor?: string };
}

interface JobInfo {
  id: string;
  state: string;
  errorMessage?: string;
}

const UNAVAILABLE = new Set(['FUNCTIONALITY_NOT_ENABLED', 'INVALIDENTITY', 'API_ERROR', 'INVALIDJOB', 'API_DISABLED_FOR_ORG', 'FEATURENOTENABLED']);

/**
 * Streams a query through a Bulk API 2.0 query job: CSV result pages fetched by locator, parsed and
 * normalised one page at a time (memory is bounded by `maxRecords`). The job is deleted at the end.
 */
export async function* readBulk(opts: {
  client: SalesforceClient;
  soql: string;
  fields: SalesforceField[];
  includeDeleted?: boolean;
  maxRecords?: number;
  resume?: BulkResume;
  cursorField?: string;
  pollMs?: number;
}): AsyncGenerator<BulkPage> {
  const { client } = opts;
  let jobId = opts.resume?.jobId;
  if (jobId) {
    try {
      await client.get<JobInfo>(`/jobs/query/${jobId}`);
    } catch (error) {
      if (error instanceof SalesforceApiError && error.status === 404) throw new BulkJobGoneError(`Bulk job ${jobId} no longer exists`);
      throw error;
    }
  } else {
    try {
      const response = await client.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: opts.includeDeleted ? 'queryAll' : 'query', query: opts.soql }));
      jobId = ((await response.json()) as JobInfo).id;
    } catch (error) {
      if (error instanceof SalesforceApiError && error.status === 400 && UNAVAILABLE.has(error.errorCode)) throw new BulkUnavailableError(`${error.errorCode}: ${error.message.split(': ').slice(-1)[0]}`);
      throw error;
    }
  }
  for (let polls = 0; ; polls++) {
    const job = await client.get<JobInfo>(`/jobs/query/${jobId}`);
    if (job.state === 'JobComplete') break;
    if (job.state === 'Failed' || job.state === 'Aborted') throw new SalesforceApiError(`Bulk job ${jobId} ended ${job.state}: ${job.errorMessage ?? 'no message'}`, `JOB_${job.state.toUpperCase()}`, 0, false);
    await client.wait(Math.min(10_000, (opts.pollMs ?? 250) * 1.5 ** polls));
  }
  // One page ahead: the next page is requested as soon as this one has arrived, so Salesforce
  // serves it while this one is decoded and written.
  const fetchPage = async (locator: string | undefined): Promise<{ bytes: Uint8Array; next?: string }> => {
    const query = new URLSearchParams({ maxRecords: String(opts.maxRecords ?? 10_000), ...(locator ? { locator } : {}) });
    const response = await client.request('GET', `/jobs/query/${jobId}/results?${query}`, { accept: 'text/csv' });
    const next = response.headers.get('sforce-locator');
    const bytes = new Uint8Array(await response.arrayBuffer());
    client.budget?.addResultBytes(bytes.length);
    return { bytes, next: !next || next === 'null' ? undefined : next };
  };
  const idAt = opts.fields.findIndex((f) => f.name === 'Id');
  const cursorAt = opts.cursorField ? opts.fields.findIndex((f) => f.name === opts.cursorField) : -1;
  let pending: Promise<{ bytes: Uint8Array; next?: string }> | undefined = fetchPage(opts.resume?.locator);
  try {
    while (pending) {
      const { bytes, next }: { bytes: Uint8Array; next?: string } = await pending;
      pending = next ? fetchPage(next) : undefined;
      // A failed prefetch surfaces when it is awaited, not as an unhandled rejection meanwhile.
      pending?.catch(() => undefined);
      const csv = new BulkCsvPage(bytes, opts.fields);
      const lastRow = csv.length - 1;
      const id = lastRow >= 0 && idAt >= 0 ? csv.text(lastRow, idAt) : null;
      yield {
        csv,
        get rows() {
          return csv.rows;
        },
        next: next ? { jobId: jobId!, locator: next } : undefined,
        last: id !== null ? { id, cursor: cursorAt >= 0 ? (csv.text(lastRow, cursorAt) ?? undefined) : undefined } : undefined,
      };
    }
  } finally {
    // Stopped early (cancelled, failed downstream): leave no request in flight.
    await pending?.catch(() => undefined);
  }
  await client.request('DELETE', `/jobs/query/${jobId}`).catch(() => undefined);
}
