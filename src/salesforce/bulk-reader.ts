import { ERROR_CODES, SyncError } from '../errors';
import { SalesforceApiError, type SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';
import { BulkCsvPage } from './bulk-csv';

/** Bulk API 2.0 cannot run this query (org without Bulk, unsupported object or field): use REST. */
export class BulkUnavailableError extends SyncError {
  /** Salesforce's answer alone (errorCode: message), for an object's result. */
  readonly reason: string;
  constructor(reason: string) {
    // Salesforce refused Bulk for the org, object or field: asking again gets the same answer.
    super(`Bulk API 2.0 cannot run this query (${reason}); reading through the REST API instead.`, { code: ERROR_CODES.BULK_UNAVAILABLE, retryable: false });
    this.reason = reason;
    this.name = 'BulkUnavailableError';
  }
}

/**
 * The job a resume point names can no longer serve its results: deleted, expired (Salesforce keeps
 * results about a week) or aborted. Retrying heals it: the next attempt starts a new job.
 */
export class BulkJobGoneError extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.BULK_JOB_GONE, retryable: true });
    this.name = 'BulkJobGoneError';
  }
}

/** A Bulk query job that Salesforce ran and failed (state Failed, e.g. QUERY_TIMEOUT), with its own message. */
export class BulkJobFailedError extends SalesforceApiError {
  constructor(
    readonly jobId: string,
    readonly jobMessage: string,
  ) {
    super(`Bulk query job ${jobId} failed in Salesforce: ${jobMessage}`, 'BULK_JOB_FAILED', 0, false, ERROR_CODES.BULK_JOB_FAILED);
    this.name = 'BulkJobFailedError';
  }
}

/**
 * Where a Bulk read resumes while its job lives (results stay downloadable for about 7 days): the
 * job, the API version that created it (its results must be fetched with the same), and the next
 * page — a results locator for sequential reads, or a set of result pages and how many of its
 * pages were read for parallel ones.
 */
export interface BulkResume {
  jobId: string;
  apiVersion?: string;
  locator?: string;
  pages?: { set?: string; skip: number };
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
  apiVersion?: number;
}

interface ResultPages {
  resultPages: { resultUrl?: string; resultLink?: string }[];
  nextRecordsUrl?: string | null;
  done: boolean;
}

const UNAVAILABLE = new Set(['FUNCTIONALITY_NOT_ENABLED', 'INVALIDENTITY', 'API_ERROR', 'INVALIDJOB', 'API_DISABLED_FOR_ORG', 'FEATURENOTENABLED']);

/** The first API version whose parallel result pages (`resultPages`) are generally available (Winter '25). */
export const PARALLEL_RESULTS_VERSION = 62;

/** Result pages downloaded at once by default. */
export const DEFAULT_PAGES_IN_FLIGHT = 4;

const jobPath = (apiVersion: string, jobId: string) => `/services/data/v${apiVersion}/jobs/query/${jobId}`;

/** Whether the job a resume point names can still serve its results. */
export async function bulkJobAlive(client: SalesforceClient, resume: BulkResume, opts: { orRunning?: boolean } = {}): Promise<boolean> {
  try {
    const job = await client.get<JobInfo>(jobPath(resume.apiVersion ?? client.apiVersion, resume.jobId));
    return job.state === 'JobComplete' || (opts.orRunning === true && (job.state === 'UploadComplete' || job.state === 'InProgress'));
  } catch (error) {
    if (error instanceof SalesforceApiError && (error.status === 404 || error.errorCode === 'NOT_FOUND')) return false;
    throw error;
  }
}

/** A Bulk query job whose results can be read: its id and the API version that created it. */
export interface BulkJobRef {
  jobId: string;
  apiVersion: string;
}

/** Creates a query job without waiting for it: Salesforce runs it meanwhile. */
export async function createBulkJob(client: SalesforceClient, soql: string, includeDeleted = false): Promise<BulkJobRef> {
  try {
    const response = await client.request(
      'POST',
      '/jobs/query',
      { 'content-type': 'application/json' },
      JSON.stringify({ operation: includeDeleted ? 'queryAll' : 'query', query: soql }),
    );
    return { jobId: ((await response.json()) as JobInfo).id, apiVersion: client.apiVersion };
  } catch (error) {
    if (error instanceof SalesforceApiError && error.status === 400 && UNAVAILABLE.has(error.errorCode))
      throw new BulkUnavailableError(`${error.errorCode}: ${error.message.split(': ').slice(-1)[0]}`);
    throw error;
  }
}

/**
 * Creates a query job (or takes the one `resume` names) and waits until Salesforce has run it.
 * A job Salesforce fails is a BulkJobFailedError when new, a BulkJobGoneError when resumed.
 */
export async function bulkJobReady(opts: {
  client: SalesforceClient;
  soql: string;
  includeDeleted?: boolean;
  resume?: Pick<BulkResume, 'jobId' | 'apiVersion'>;
  pollMs?: number;
  onJob?: (jobId: string) => void;
}): Promise<BulkJobRef> {
  const { client } = opts;
  const apiVersion = opts.resume?.apiVersion ?? client.apiVersion;
  let jobId = opts.resume?.jobId;
  if (!jobId) {
    jobId = (await createBulkJob(client, opts.soql, opts.includeDeleted)).jobId;
    opts.onJob?.(jobId);
  }
  const base = jobPath(apiVersion, jobId);
  for (let polls = 0; ; polls++) {
    let job: JobInfo;
    try {
      job = await client.get<JobInfo>(base);
    } catch (error) {
      if (error instanceof SalesforceApiError && error.status === 404)
        throw new BulkJobGoneError(`Bulk query job ${jobId} no longer exists (Salesforce keeps a job's results about a week)`);
      throw error;
    }
    if (job.state === 'JobComplete') return { jobId, apiVersion };
    if (job.state === 'Failed') {
      if (opts.resume) throw new BulkJobGoneError(`Bulk query job ${jobId} failed in Salesforce: ${job.errorMessage ?? 'no message'}`);
      throw new BulkJobFailedError(jobId, job.errorMessage ?? 'no message');
    }
    if (job.state === 'Aborted') throw new BulkJobGoneError(`Bulk query job ${jobId} was aborted`);
    await client.wait(Math.min(10_000, (opts.pollMs ?? 250) * 1.5 ** polls));
  }
}

/** Deletes a job whose results are read (best effort: Salesforce expires it anyway). */
export async function deleteBulkJob(client: SalesforceClient, job: BulkJobRef): Promise<void> {
  await client.request('DELETE', jobPath(job.apiVersion, job.jobId)).catch((error: unknown) => {
    if (!(error instanceof SalesforceApiError)) throw error;
  });
}

/** One listing of a job's parallel result pages: the listing's URL (undefined: the first) and how many page links it holds. */
export interface ResultPageSet {
  set?: string;
  links: number;
}

/**
 * Walks a completed job's `resultPages` listings (API 62.0 and later) without downloading any page:
 * what a plan splits into partitions. With `stopAt`, stops once that many pages are seen (`complete` false).
 */
export async function listResultPageSets(client: SalesforceClient, job: BulkJobRef, opts: { stopAt?: number } = {}): Promise<{ sets: ResultPageSet[]; complete: boolean }> {
  const sets: ResultPageSet[] = [];
  let set: string | undefined;
  let pages = 0;
  for (;;) {
    let listing: ResultPages;
    try {
      listing = await client.get<ResultPages>(set ?? `${jobPath(job.apiVersion, job.jobId)}/resultPages`);
    } catch (error) {
      if (error instanceof SalesforceApiError && error.status === 404) throw new BulkJobGoneError(`Bulk query job ${job.jobId} no longer serves its results (${error.message})`);
      throw error;
    }
    const links = listing.resultPages.filter((p) => p.resultUrl ?? p.resultLink).length;
    sets.push({ set, links });
    pages += links;
    const following = listing.done || !listing.nextRecordsUrl ? undefined : listing.nextRecordsUrl;
    if (!following) return { sets, complete: true };
    if (opts.stopAt !== undefined && pages >= opts.stopAt) return { sets, complete: false };
    set = following;
  }
}

/**
 * Reads `count` result pages of a completed job from a place in its listings (`from`: a listing
 * and how many of its links to skip), up to `pagesInFlight` at once, in order. Each page's `next`
 * is where the pages after it start (also past the end of this range), undefined at the job's end.
 * The job is left in place: other partitions read it too.
 */
export async function* readBulkPages(opts: {
  client: SalesforceClient;
  job: BulkJobRef;
  from: { set?: string; skip: number };
  count: number;
  fields: SalesforceField[];
  cursorField?: string;
  pagesInFlight?: number;
}): AsyncGenerator<BulkPage> {
  const { client, job } = opts;
  if (opts.count <= 0) return;
  const base = jobPath(job.apiVersion, job.jobId);
  const downloads = parallelPages(client, base, job.jobId, job.apiVersion, opts.from, opts.pagesInFlight ?? DEFAULT_PAGES_IN_FLIGHT, opts.count);
  yield* bulkPagesOf(downloads, opts.fields, opts.cursorField, job.jobId);
}

/** Parses downloaded result pages, noting each page's last row. */
async function* bulkPagesOf(downloads: AsyncGenerator<Download>, fields: SalesforceField[], cursorField: string | undefined, jobId: string): AsyncGenerator<BulkPage> {
  const idAt = fields.findIndex((f) => f.name === 'Id');
  const cursorAt = cursorField ? fields.findIndex((f) => f.name === cursorField) : -1;
  try {
    for await (const { bytes, next } of downloads) {
      const csv = new BulkCsvPage(bytes, fields);
      const lastRow = csv.length - 1;
      const id = lastRow >= 0 && idAt >= 0 ? csv.text(lastRow, idAt) : null;
      yield {
        csv,
        get rows() {
          return csv.rows;
        },
        next,
        last: id !== null ? { id, cursor: cursorAt >= 0 ? (csv.text(lastRow, cursorAt) ?? undefined) : undefined } : undefined,
      };
    }
  } catch (error) {
    // The job vanished under the read (deleted, expired): a new attempt starts a new job.
    if (error instanceof SalesforceApiError && error.status === 404) throw new BulkJobGoneError(`Bulk query job ${jobId} no longer serves its results (${error.message})`);
    throw error;
  }
}

/**
 * Streams a query through a Bulk API 2.0 query job: CSV result pages parsed and normalised one
 * page at a time. On API versions with parallel results, up to `pagesInFlight` pages download at
 * once (compressed), and pages are still handed out in order, so a resume point is "every page
 * before this one"; older versions follow the locator chain with one page ahead. Memory is bounded
 * by the pages in flight. The job is deleted at the end.
 */
export async function* readBulk(opts: {
  client: SalesforceClient;
  soql: string;
  fields: SalesforceField[];
  includeDeleted?: boolean;
  /** Records per page of a sequential read (parallel pages are sized by Salesforce). */
  maxRecords?: number;
  resume?: BulkResume;
  cursorField?: string;
  pollMs?: number;
  pagesInFlight?: number;
  /** Told when the job was created (before its results are read). */
  onJob?: (jobId: string) => void;
}): AsyncGenerator<BulkPage> {
  const { client } = opts;
  const { jobId, apiVersion } = await bulkJobReady(opts);
  const base = jobPath(apiVersion, jobId);
  const parallel =
    opts.resume?.locator === undefined &&
    (opts.resume?.pages !== undefined || (Number(apiVersion) >= PARALLEL_RESULTS_VERSION && (opts.pagesInFlight ?? DEFAULT_PAGES_IN_FLIGHT) > 1));
  const downloads = parallel
    ? parallelPages(client, base, jobId, apiVersion, opts.resume?.pages, opts.pagesInFlight ?? DEFAULT_PAGES_IN_FLIGHT)
    : sequentialPages(client, base, jobId, apiVersion, opts.resume?.locator, opts.maxRecords ?? 10_000);
  yield* bulkPagesOf(downloads, opts.fields, opts.cursorField, jobId);
  // The results are read: a job that cannot be deleted now only waits for Salesforce to expire it
  // (a refusal or an outage is no reason to fail the read). Anything else (a bug) surfaces.
  await client.request('DELETE', base).catch((error: unknown) => {
    if (!(error instanceof SalesforceApiError)) throw error;
  });
}

interface Download {
  bytes: Uint8Array;
  next?: BulkResume;
}

async function fetchResults(client: SalesforceClient, path: string): Promise<{ bytes: Uint8Array; locator?: string }> {
  // Compressed: Salesforce gzips query results for clients that accept it, much faster to download.
  const response = await client.request('GET', path, { accept: 'text/csv', 'accept-encoding': 'gzip' });
  const locator = response.headers.get('sforce-locator');
  const bytes = new Uint8Array(await response.arrayBuffer());
  // Counted as Salesforce counts its daily result budget: the CSV, not what crossed the wire.
  client.budget?.addResultBytes(bytes.length);
  return { bytes, locator: !locator || locator === 'null' ? undefined : locator };
}

/** The locator chain, one page ahead: the next page is requested as soon as this one has arrived. */
async function* sequentialPages(
  client: SalesforceClient,
  base: string,
  jobId: string,
  apiVersion: string,
  locator: string | undefined,
  maxRecords: number,
): AsyncGenerator<Download> {
  const fetchPage = (at: string | undefined) => fetchResults(client, `${base}/results?${new URLSearchParams({ maxRecords: String(maxRecords), ...(at ? { locator: at } : {}) })}`);
  let pending: Promise<{ bytes: Uint8Array; locator?: string }> | undefined = fetchPage(locator);
  try {
    while (pending) {
      const { bytes, locator: next }: { bytes: Uint8Array; locator?: string } = await pending;
      pending = next ? fetchPage(next) : undefined;
      // A failed prefetch surfaces when it is awaited, not as an unhandled rejection meanwhile.
      pending?.catch(() => undefined);
      yield { bytes, next: next ? { jobId, apiVersion, locator: next } : undefined };
    }
  } finally {
    // Stopped early (cancelled, failed downstream): leave no request in flight.
    await pending?.catch(() => undefined);
  }
}

/**
 * Parallel result pages: sets of up to five page links (`resultPages`), up to `inFlight` pages
 * downloading at once, handed out in order. The resume point after a page is the set it came from
 * and how many of that set's pages are done (or the next set).
 */
async function* parallelPages(
  client: SalesforceClient,
  base: string,
  jobId: string,
  apiVersion: string,
  from: BulkResume['pages'],
  inFlight: number,
  limit = Infinity,
): AsyncGenerator<Download> {
  async function* links(): AsyncGenerator<{ url: string; next?: BulkResume }> {
    let set = from?.set;
    let skip = from?.skip ?? 0;
    let handed = 0;
    for (;;) {
      const listing = await client.get<ResultPages>(set ?? `${base}/resultPages`);
      const urls = listing.resultPages.map((p) => p.resultUrl ?? p.resultLink).filter((u): u is string => Boolean(u));
      const following = listing.done || !listing.nextRecordsUrl ? undefined : listing.nextRecordsUrl;
      for (let i = skip; i < urls.length; i++) {
        const after = i + 1 < urls.length ? { set, skip: i + 1 } : following ? { set: following, skip: 0 } : undefined;
        yield { url: urls[i]!, next: after ? { jobId, apiVersion, pages: after } : undefined };
        if (++handed >= limit) return;
      }
      if (!following) return;
      set = following;
      skip = 0;
    }
  }
  const queue: Promise<Download>[] = [];
  const source = links();
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && queue.length < inFlight) {
      const link = await source.next();
      if (link.done) {
        exhausted = true;
        break;
      }
      const { url, next } = link.value;
      const download = fetchResults(client, url).then(({ bytes }) => ({ bytes, next }));
      download.catch(() => undefined);
      queue.push(download);
    }
  };
  try {
    await fill();
    while (queue.length > 0) {
      const page = await queue.shift()!;
      // Keep `inFlight` pages downloading while this one is decoded and written.
      const filling = fill();
      filling.catch(() => undefined);
      yield page;
      await filling;
    }
  } finally {
    await Promise.allSettled(queue);
    await source.return(undefined);
  }
}
