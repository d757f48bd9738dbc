import crypto from 'node:crypto';
import type http from 'node:http';
import type { SimContext } from './context';
import type { SimField } from './objects';
import { SoqlError, parseSoql } from './soql';

/*
 * Bulk API 1.0 query jobs (/services/async/<version>/), JSON content type only: what
 * simple_salesforce's `sf.bulk.<Object>.query(...)` and `query_all(...)` use, and with them dlt's
 * Salesforce source. Create a job, add one batch (the SOQL as the request body), close the job,
 * poll the batch, list its results, fetch each. The session comes in the X-SFDC-Session header;
 * errors are Bulk 1.0's {exceptionCode, exceptionMessage}. The simulator runs a batch when it is
 * added, so the first poll sees it Completed. Results hold records as the REST API renders them,
 * except dates and datetimes, which Bulk 1.0's JSON gives as epoch milliseconds. One result per
 * batch (Salesforce splits a result only past 1 GB).
 */

interface V1Batch {
  id: string;
  numbers: number[];
  fields: SimField[];
  objectName: string;
  state: 'Completed' | 'Failed';
  stateMessage?: string;
  createdDate: string;
}

interface V1Job {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  state: 'Open' | 'Closed';
  createdDate: string;
  batches: Map<string, V1Batch>;
}

const jobs = new WeakMap<SimContext, Map<string, V1Job>>();

function jobsOf(sim: SimContext): Map<string, V1Job> {
  let m = jobs.get(sim);
  if (!m) jobs.set(sim, (m = new Map()));
  return m;
}

/** Ids as Salesforce shapes them: job 750..., batch 751... */
const newId = (prefix: string) => `${prefix}${crypto.randomBytes(6).toString('hex').slice(0, 12)}AAA`;

function fail(sim: SimContext, res: http.ServerResponse, status: number, code: string, message: string): void {
  sim.json(res, status, { exceptionCode: code, exceptionMessage: message });
}

function jobInfo(job: V1Job, version: string): Record<string, unknown> {
  const batches = [...job.batches.values()];
  return {
    apexProcessingTime: 0,
    apiActiveProcessingTime: 0,
    apiVersion: Number(version),
    concurrencyMode: 'Parallel',
    contentType: 'JSON',
    createdById: '005000000000001AAA',
    createdDate: job.createdDate,
    id: job.id,
    numberBatchesCompleted: batches.filter((b) => b.state === 'Completed').length,
    numberBatchesFailed: batches.filter((b) => b.state === 'Failed').length,
    numberBatchesInProgress: 0,
    numberBatchesQueued: 0,
    numberBatchesTotal: batches.length,
    numberRecordsFailed: 0,
    numberRecordsProcessed: batches.reduce((n, b) => n + b.numbers.length, 0),
    numberRetries: 0,
    object: job.object,
    operation: job.operation,
    state: job.state,
    systemModstamp: job.createdDate,
    totalProcessingTime: 0,
  };
}

function batchInfo(job: V1Job, b: V1Batch): Record<string, unknown> {
  return {
    apexProcessingTime: 0,
    apiActiveProcessingTime: 0,
    createdDate: b.createdDate,
    id: b.id,
    jobId: job.id,
    numberRecordsFailed: 0,
    numberRecordsProcessed: b.numbers.length,
    state: b.state,
    ...(b.stateMessage ? { stateMessage: b.stateMessage } : {}),
    systemModstamp: b.createdDate,
    totalProcessingTime: 0,
  };
}

/** Epoch milliseconds of a date (midnight UTC) or datetime value, as Bulk 1.0's JSON results give them. */
function epochMs(v: unknown): number {
  return new Date(String(v)).getTime();
}

/** Bulk API 1.0 query jobs under /services/async/<version>/. */
export async function bulkV1(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, version: string, rest: string, body: string): Promise<void> {
  const session = sim.sessions.get(String(req.headers['x-sfdc-session'] ?? ''));
  if (!session || session.expiresAt < Date.now()) return fail(sim, res, 400, 'InvalidSessionId', 'Invalid session id');
  if (sim.config.bulkEnabled === false) return fail(sim, res, 400, 'FeatureNotEnabled', 'Async API not enabled');
  const method = req.method ?? 'GET';
  const all = jobsOf(sim);
  const now = new Date().toISOString().replace('Z', '+0000');

  if (rest === '/job' && method === 'POST') {
    const request = JSON.parse(body || '{}') as { operation?: string; object?: string; contentType?: string };
    if (request.operation !== 'query' && request.operation !== 'queryAll') return fail(sim, res, 400, 'InvalidJob', `Invalid operation for the simulator: ${request.operation}`);
    if (request.contentType !== 'JSON') return fail(sim, res, 400, 'InvalidJob', 'The simulator serves Bulk API 1.0 jobs of content type JSON only');
    const o = sim.org.object(request.object ?? '');
    if (!o) return fail(sim, res, 400, 'InvalidJob', `Unable to find object: ${request.object}`);
    const job: V1Job = { id: newId('750'), operation: request.operation, object: o.name, state: 'Open', createdDate: now, batches: new Map() };
    all.set(job.id, job);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jobInfo(job, version)));
    return;
  }
  const m = /^\/job\/([^/]+)(?:\/batch(?:\/([^/]+)(?:\/result(?:\/([^/]+))?)?)?)?$/.exec(rest);
  const job = m ? all.get(m[1]!) : undefined;
  if (!m || !job) return fail(sim, res, 400, 'InvalidJob', 'Invalid job id');
  const [, , batchId, resultId] = m;
  const isBatchPath = rest.includes('/batch');

  if (!isBatchPath) {
    if (method === 'POST') {
      const request = JSON.parse(body || '{}') as { state?: string };
      if (request.state === 'Closed' || request.state === 'Aborted') job.state = 'Closed';
    }
    return sim.json(res, 200, jobInfo(job, version));
  }
  if (!batchId) {
    if (method !== 'POST') return sim.json(res, 200, { batchInfo: [...job.batches.values()].map((b) => batchInfo(job, b)) });
    if (job.state !== 'Open') return fail(sim, res, 400, 'InvalidJob', 'Job is not open');
    const batch: V1Batch = { id: newId('751'), numbers: [], fields: [], objectName: job.object, state: 'Completed', createdDate: now };
    try {
      const parsed = parseSoql(body);
      if (parsed.object.toLowerCase() !== job.object.toLowerCase()) throw new SoqlError('INVALID_TYPE', `the query's object ${parsed.object} is not the job's ${job.object}`);
      const result = sim.org.run(parsed, job.operation === 'queryAll');
      const compound = result.fields.find((f) => f.type === 'address' || f.type === 'location' || f.type === 'base64');
      if (compound) throw new SoqlError('INVALID_FIELD', `Selecting compound data not supported in Bulk Query: ${compound.name}`);
      batch.numbers = result.numbers;
      batch.fields = result.fields;
      batch.objectName = result.object.name;
    } catch (error) {
      if (!(error instanceof SoqlError)) throw error;
      batch.state = 'Failed';
      batch.stateMessage = `InvalidBatch : ${error.message}`;
    }
    job.batches.set(batch.id, batch);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(batchInfo(job, batch)));
    return;
  }
  const batch = job.batches.get(batchId);
  if (!batch) return fail(sim, res, 400, 'InvalidBatch', 'Invalid batch id');
  if (!rest.includes('/result')) return sim.json(res, 200, batchInfo(job, batch));
  if (batch.state !== 'Completed') return fail(sim, res, 400, 'InvalidBatch', `Batch not completed: ${batch.state}`);
  const onlyResult = `752${batch.id.slice(3)}`;
  if (!resultId) return sim.json(res, 200, [onlyResult]);
  if (resultId !== onlyResult) return fail(sim, res, 400, 'InvalidBatch', 'Invalid result id');
  await streamRecords(sim, res, version, batch);
}

/** The result as one JSON array, written a few thousand records at a time (the simulator's memory stays flat). */
async function streamRecords(sim: SimContext, res: http.ServerResponse, version: string, batch: V1Batch): Promise<void> {
  const o = sim.org.object(batch.objectName)!;
  res.writeHead(200, { 'content-type': 'application/json' });
  const write = (s: string) => (res.write(s) ? Promise.resolve() : new Promise<void>((resolve) => res.once('drain', () => resolve())));
  const step = 2000;
  await write('[');
  for (let i = 0; i < batch.numbers.length; i += step) {
    const parts: string[] = [];
    for (const n of batch.numbers.slice(i, i + step)) {
      const r = sim.org.record(o, n, true)!;
      const out: Record<string, unknown> = { attributes: { type: o.name, url: `/services/data/v${version}/sobjects/${o.name}/${String(r.Id)}` } };
      for (const f of batch.fields) {
        const v = r[f.name];
        out[f.name] = v === null || v === undefined ? null : f.type === 'datetime' || f.type === 'date' ? epochMs(v) : v;
      }
      parts.push(JSON.stringify(out));
    }
    await write((i > 0 ? ',' : '') + parts.join(','));
  }
  res.end(']');
}
