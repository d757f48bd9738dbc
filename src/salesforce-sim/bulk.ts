import crypto from 'node:crypto';
import type http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { SimContext } from './context';
import type { SimField } from './objects';
import type { CachedPage } from './page-cache';
import { apiDatetime } from './org';
import { parseSoql } from './soql';
import type { BulkJob } from './types';

/*
 * Bulk API 2.0 query jobs as Salesforce documents them: results by locator or as parallel result
 * pages (`resultPages`, with the API version that created the job), gzip-compressed for clients
 * that accept it; large unordered queries come back chunk by chunk (PK chunking), not in Id order;
 * a job whose result is over `bulkTimeoutRows` fails with QUERY_TIMEOUT.
 */

const gzip = promisify(zlib.gzip);

/** Bulk API 2.0 query jobs: create, poll, CSV results by locator, abort, delete. */
export async function bulk(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, version: string, rest: string, url: URL, body: string): Promise<void> {
  const method = req.method ?? 'GET';
  const info = (job: BulkJob) => ({
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: '005000000000001AAA',
    createdDate: job.createdDate,
    systemModstamp: job.createdDate,
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(version),
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
    ...(job.state === 'JobComplete' ? { numberRecordsProcessed: job.numbers.length, retries: 0, totalProcessingTime: 40 } : {}),
    ...(job.state === 'Failed' ? { errorMessage: job.errorMessage } : {}),
  });
  if (rest === '/jobs/query' && method === 'POST') {
    if (sim.config.bulkEnabled === false) return sim.json(res, 400, [{ errorCode: 'FUNCTIONALITY_NOT_ENABLED', message: 'Bulk API is not enabled for this Organization' }]);
    const request = JSON.parse(body || '{}') as { operation?: string; query?: string };
    if (request.operation !== 'query' && request.operation !== 'queryAll')
      return sim.json(res, 400, [{ errorCode: 'INVALIDJOB', message: `InvalidJob : Invalid operation: ${request.operation}` }]);
    const parsed = parseSoql(request.query ?? '');
    if (parsed.count)
      return sim.json(res, 400, [{ errorCode: 'INVALIDJOB', message: 'InvalidJob : Aggregate functions such as COUNT() are not supported by Bulk API 2.0 queries.' }]);
    const o = sim.org.object(parsed.object);
    if (o && !o.bulkQueryable) return sim.json(res, 400, [{ errorCode: 'INVALIDENTITY', message: `Entity '${o.name}' is not supported by the Bulk API.` }]);
    const result = sim.org.run(parsed, request.operation === 'queryAll');
    const compound = result.fields.find((f) => f.type === 'address' || f.type === 'location');
    if (compound) return sim.json(res, 400, [{ errorCode: 'API_ERROR', message: `Selecting compound data not supported in Bulk Query` }]);
    const binary = result.fields.find((f) => f.type === 'base64');
    if (binary) return sim.json(res, 400, [{ errorCode: 'INVALIDJOB', message: `InvalidJob : Binary field '${binary.name}' is not supported.` }]);
    // Salesforce splits a large query into primary-key chunks and runs them in parallel — unless
    // ORDER BY or LIMIT ask for one ordered result, which it must produce in one piece.
    const chunk = sim.config.bulkChunkRows ?? 100_000;
    const ordered = parsed.orderBy.length > 0 || parsed.limit !== undefined;
    sim.counters.bulkJobs++;
    if (ordered && sim.org.count(result.object.name) > chunk) sim.counters.orderedBulkJobs++;
    let numbers = result.numbers;
    if (!ordered && numbers.length > chunk) {
      const chunks: number[][] = [];
      for (let i = 0; i < numbers.length; i += chunk) chunks.push(numbers.slice(i, i + chunk));
      // Chunks finish in no particular order: the last first, here.
      numbers = chunks.reverse().flat();
    }
    const timeout = sim.config.bulkTimeoutRows;
    const job: BulkJob = {
      id: `750${crypto.randomBytes(6).toString('hex').slice(0, 12)}AAA`,
      operation: request.operation,
      object: result.object.name,
      query: request.query!,
      state: 'UploadComplete',
      polls: 0,
      numbers,
      fields: result.fields,
      createdDate: apiDatetime(new Date().toISOString()),
      createdAt: Date.now(),
      apiVersion: version,
      ...(timeout !== undefined && numbers.length > timeout ? { errorMessage: 'Failed to process query: QUERY_TIMEOUT: Your query request was running for too long.' } : {}),
    };
    sim.jobs.set(job.id, job);
    sim.bulkJobsCreated++;
    return sim.json(res, 200, info(job));
  }
  const m = /^\/jobs\/query\/([A-Za-z0-9]+)(\/results|\/resultPages)?$/.exec(rest);
  const job = m ? sim.jobs.get(m[1]!) : undefined;
  if (!m || !job) return sim.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  if (!m[2]) {
    if (method === 'DELETE') {
      sim.jobs.delete(job.id);
      res.writeHead(204).end();
      return;
    }
    if (method === 'PATCH') {
      if ((JSON.parse(body || '{}') as { state?: string }).state === 'Aborted' && job.state !== 'JobComplete') job.state = 'Aborted';
      return sim.json(res, 200, info(job));
    }
    // A job waits in the queue (bulkQueueMs), then takes a couple of polls to finish, as real ones take time; one made a while ago is done.
    if (job.state === 'UploadComplete' || job.state === 'InProgress') {
      const age = Date.now() - job.createdAt;
      const queue = sim.bulkQueueMs;
      const ran = age >= queue && (++job.polls >= 2 || age >= queue + 1_000);
      job.state = ran ? (job.errorMessage ? 'Failed' : 'JobComplete') : age >= queue ? 'InProgress' : 'UploadComplete';
    }
    return sim.json(res, 200, info(job));
  }
  if (version !== job.apiVersion)
    return sim.json(res, 409, [{ errorCode: 'CONFLICT', message: `The job was created with API version ${job.apiVersion}; get its results with the same version.` }]);
  // Parallel result pages exist from API 62.0 on.
  if (m[2] === '/resultPages' && Number(version) < 62) return sim.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  if (job.state !== 'JobComplete') return sim.json(res, 400, [{ errorCode: 'INVALIDJOBSTATE', message: `job is in state ${job.state}` }]);
  if (m[2] === '/resultPages') return resultPages(sim, res, version, job, url);
  sim.resultsInFlight++;
  sim.counters.maxResultsInFlight = Math.max(sim.counters.maxResultsInFlight, sim.resultsInFlight);
  try {
    await results(sim, req, res, job, url);
  } finally {
    sim.resultsInFlight--;
  }
}

/**
 * Up to five links to result pages and the link to the next five: clients download them in
 * parallel (results of either kind only with the API version that created the job, else 409).
 */
export function resultPages(sim: SimContext, res: http.ServerResponse, version: string, job: BulkJob, url: URL): void {
  sim.counters.resultPagesCalls++;
  const size = sim.config.resultPageRecords ?? 10_000;
  const start = Number(url.searchParams.get('locator') ? Buffer.from(url.searchParams.get('locator')!, 'base64url').toString() : '0');
  if (!Number.isInteger(start) || start < 0 || start > job.numbers.length) return sim.json(res, 400, [{ errorCode: 'INVALID_LOCATOR', message: 'invalid locator' }]);
  const locator = (n: number) => Buffer.from(String(n)).toString('base64url');
  const base = `/services/data/v${job.apiVersion}/jobs/query/${job.id}`;
  const links: { resultUrl: string }[] = [];
  let at = start;
  while (links.length < 5 && (at < job.numbers.length || (at === 0 && links.length === 0))) {
    links.push({ resultUrl: `${base}/results?locator=${locator(at)}&maxRecords=${size}` });
    at += size;
  }
  const done = at >= job.numbers.length;
  return sim.json(res, 200, { resultPages: links, nextRecordsUrl: done ? null : `${base}/resultPages?locator=${locator(at)}`, done });
}

/** One page of a job's CSV results, from a locator (gzip-compressed when the client accepts it). */
export async function results(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, job: BulkJob, url: URL): Promise<void> {
  if (sim.config.resultLatencyMs) await new Promise((r) => setTimeout(r, sim.config.resultLatencyMs));
  const offset = Number(url.searchParams.get('locator') ? Buffer.from(url.searchParams.get('locator')!, 'base64url').toString() : '0');
  if (!Number.isInteger(offset) || offset < 0 || offset > job.numbers.length) return sim.json(res, 400, [{ errorCode: 'INVALID_LOCATOR', message: 'invalid locator' }]);
  const maxRecords = Math.max(1, Number(url.searchParams.get('maxRecords') ?? 50_000));
  const page = (await sim.pageCache?.get(job, offset, maxRecords)) ?? (await renderPage(sim, job, offset, maxRecords));
  const text = page.csv;
  const compress = sim.config.gzip !== false && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  sim.counters.resultDownloads++;
  if (compress) sim.counters.gzipResults++;
  const bytes = compress ? await gzip(text, { level: 1 }) : text;
  res.writeHead(200, {
    'content-type': 'text/csv',
    ...(compress ? { 'content-encoding': 'gzip' } : {}),
    'sforce-locator': page.locator,
    'sforce-numberofrecords': String(page.records),
    'sforce-limit-info': sim.limitInfo(),
  });
  sim.resultBytesServed += text.length;
  res.end(bytes);
}

/** Renders one results page (and keeps it in the page cache, when there is one). */
async function renderPage(sim: SimContext, job: BulkJob, offset: number, maxRecords: number): Promise<CachedPage> {
  const o = sim.org.object(job.object)!;
  const slice = job.numbers.slice(offset, offset + maxRecords);
  const next = offset + slice.length;
  const lines = [job.fields.map((f) => csvCell(f.name)).join(',')];
  const cells = job.fields.map(bulkCsvFormatter);
  const width = job.fields.length;
  for (const n of slice) {
    let line = '';
    // Rows no test changed are generated field by field, only the job's fields.
    const r = sim.org.changed(o, n) ? sim.org.record(o, n, true)! : undefined;
    for (let k = 0; k < width; k++) {
      const f = job.fields[k]!;
      const cell = cells[k]!(r ? r[f.name] : sim.org.generated(o, f, n));
      line = k === 0 ? cell : `${line},${cell}`;
    }
    lines.push(line);
  }
  const page = {
    csv: Buffer.from(`${lines.join('\n')}\n`),
    records: slice.length,
    locator: next < job.numbers.length ? Buffer.from(String(next)).toString('base64url') : 'null',
  };
  await sim.pageCache?.put(job, offset, maxRecords, page);
  return page;
}

function csvCell(text: string): string {
  return text.includes('"') ? `"${text.replace(/"/g, '""')}"` : `"${text}"`;
}

/** How Bulk API 2.0 CSV writes a field's values: every value quoted, nulls empty, datetimes with Z. */
function bulkCsvFormatter(f: SimField): (v: unknown) => string {
  switch (f.type) {
    case 'datetime':
      return (v) => {
        if (v === null || v === undefined || v === '') return '';
        const text = String(v);
        return text.length === 24 && text.endsWith('Z') ? `"${text}"` : `"${new Date(text).toISOString()}"`;
      };
    case 'int':
    case 'double':
    case 'percent':
    case 'currency':
    case 'boolean':
      return (v) => (v === null || v === undefined || v === '' ? '' : typeof v === 'number' || typeof v === 'boolean' ? `"${v}"` : csvCell(String(v)));
    default:
      return (v) => (v === null || v === undefined || v === '' ? '' : csvCell(String(v)));
  }
}
