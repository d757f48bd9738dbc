import { parse } from 'csv-parse/sync';
import { SalesforceApiError, type SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import { fromBulkCsv } from './values';

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
  rows: unknown[][];
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
    await new Promise((r) => setTimeout(r, Math.min(10_000, (opts.pollMs ?? 250) * 1.5 ** polls)));
  }
  const positions = new Map(opts.fields.map((f, i) => [f.name.toLowerCase(), i]));
  let locator = opts.resume?.locator;
  for (;;) {
    const query = new URLSearchParams({ maxRecords: String(opts.maxRecords ?? 10_000), ...(locator ? { locator } : {}) });
    const response = await client.request('GET', `/jobs/query/${jobId}/results?${query}`, { accept: 'text/csv' });
    const next = response.headers.get('sforce-locator');
    const records = parse(await response.text(), { relax_quotes: false, skip_empty_lines: true }) as string[][];
    const header = records.shift() ?? [];
    const order = header.map((name) => positions.get(name.toLowerCase()));
    const rows = records.map((cells) => {
      const row = new Array<unknown>(opts.fields.length).fill(null);
      cells.forEach((cell, c) => {
        const at = order[c];
        if (at !== undefined) row[at] = fromBulkCsv(opts.fields[at]!.type, cell);
      });
      return row;
    });
    const lastCells = records.at(-1);
    const idAt = header.findIndex((h) => h === 'Id');
    const cursorAt = opts.cursorField ? header.indexOf(opts.cursorField) : -1;
    const done = !next || next === 'null';
    yield {
      rows,
      next: done ? undefined : { jobId: jobId!, locator: next },
      last: lastCells && idAt >= 0 ? { id: lastCells[idAt]!, cursor: cursorAt >= 0 ? lastCells[cursorAt] : undefined } : undefined,
    };
    if (done) break;
    locator = next;
  }
  await client.request('DELETE', `/jobs/query/${jobId}`).catch(() => undefined);
}
