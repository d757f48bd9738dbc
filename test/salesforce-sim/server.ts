import crypto from 'node:crypto';
import http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { SimOrg, apiDatetime, type SimRecord } from './org';
import type { SimField } from './objects';
import { SoqlError, parseSoql } from './soql';
import { salesforceEnv } from '../../src/salesforce/settings';

/*
 * A Salesforce org on 127.0.0.1 that speaks Salesforce's wire formats: the partner SOAP login,
 * the OAuth2 token endpoint, the identity URL, REST describe and query/queryAll with
 * nextRecordsUrl paging, limits, and Salesforce's error envelopes. A control API under /__sim/ lets tests change data and inject
 * faults or hold requests until a test releases them. Bulk API 2.0 query jobs are served as
 * Salesforce documents them: results by locator or as parallel result pages (`resultPages`, fetched
 * with the API version that created the job), gzip-compressed for clients that accept it; large
 * unordered queries come back chunk by chunk (PK chunking), not in Id order; a job whose result is
 * over `bulkTimeoutRows` fails with QUERY_TIMEOUT. `stats()` counts what clients did (jobs created
 * with ORDER BY/LIMIT on objects too big for one chunk, pages in flight at once, compressed answers).
 */

const gzip = promisify(zlib.gzip);

export interface SimUser {
  username: string;
  password: string;
  securityToken: string;
}

export interface SimConfig {
  port?: number;
  /** The instance URL the org reports (default: its own http://127.0.0.1:port). */
  publicUrl?: string;
  users?: SimUser[];
  orgId?: string;
  clients?: { clientId: string; clientSecret: string }[];
  /** Certificate or public key (PEM) that JWT bearer assertions must be signed for. */
  jwtCertificate?: string;
  sessionTtlMs?: number;
  rowCounts?: Record<string, number>;
  /** false: the org has no Bulk API (jobs are refused as Salesforce does). */
  bulkEnabled?: boolean;
  dailyApiLimit?: number;
  /** Rows per PK chunk of a Bulk job: a larger unordered result comes back chunk by chunk. Default 100,000. */
  bulkChunkRows?: number;
  /** Records per page of parallel results (`resultPages`). Default 10,000. */
  resultPageRecords?: number;
  /** A Bulk job whose result has more rows than this fails with QUERY_TIMEOUT (as unchunked large queries do). */
  bulkTimeoutRows?: number;
  /** false: results are never compressed, even for clients that accept gzip. Default true. */
  gzip?: boolean;
  /**
   * Time each results page takes before its first byte (Salesforce prepares pages on its side and
   * serves many at once; the simulator's own serving runs on this machine's cores). Default 0.
   */
  resultLatencyMs?: number;
  /** Daily limits as `/limits` reports them: Max, and Remaining to say others used some already. */
  limits?: LimitsUpdate;
}

/** What clients of the simulator did, for tests and the bench to assert on. */
export interface SimStats {
  bulkJobs: number;
  /** Jobs whose query has ORDER BY or LIMIT on an object larger than one PK chunk (Salesforce cannot chunk them). */
  orderedBulkJobs: number;
  resultPagesCalls: number;
  /** Results pages served, and how many of them gzip-compressed. */
  resultDownloads: number;
  gzipResults: number;
  /** Most results downloads served at the same time. */
  maxResultsInFlight: number;
}

/** The daily limits the simulator counts (rolling 24-hour limits in Salesforce). */
export const SIM_LIMITS = ['DailyApiRequests', 'DailyBulkV2QueryJobs', 'DailyBulkV2QueryFileStorageMB'] as const;
export type SimLimitName = (typeof SIM_LIMITS)[number];
/** Sets a limit's Max, and its Remaining now (the rest counts as used by the org's other clients). */
export type LimitsUpdate = Partial<Record<SimLimitName, { Max?: number; Remaining?: number }>>;

/** What this simulator served: requests counted against DailyApiRequests, Bulk jobs created, Bulk result bytes. */
export interface SimUsage {
  apiRequests: number;
  bulkJobs: number;
  resultBytes: number;
}

export const SIM_DEFAULTS = {
  user: { username: 'integration@sim.example.com', password: 'sim-Passw0rd', securityToken: 'SIMTOKEN0123456789' },
  orgId: '00D5g000004SIMAAAA',
  client: { clientId: 'sim-consumer-key', clientSecret: 'sim-consumer-secret' },
};

/** The API versions the org serves: 31.0 (the oldest Salesforce still serves since Summer '25) to 62.0. */
export const API_VERSIONS = Array.from({ length: 32 }, (_, i) => `${31 + i}.0`);

/** The User Id of every login (login results, token responses, identity URLs, jobs). */
const SIM_USER_ID = '005000000000001AAA';

type FaultKind = 'expire-session' | 'request-limit' | 'unavailable' | 'drop-connection' | 'slow' | 'invalid-locator';
interface FaultRule {
  kind: FaultKind;
  /** Applies to requests whose path contains this text. */
  path: string;
  count: number;
  delayMs?: number;
}

/** Which requests a hold stops: path text, optionally the object they read, after `skip` others pass. */
export interface HoldRule {
  path: string;
  object?: string;
  skip?: number;
}

/**
 * One request held by the simulator until the test releases it: fault tests wait for events
 * (the request arrived, its client went away) instead of racing slow answers against the clock.
 */
export interface Hold {
  readonly id: string;
  /** Resolves once a matching request has arrived and is being held. */
  readonly arrived: Promise<void>;
  /** Resolves once the held request's client has gone away (aborted, or its process killed). */
  readonly dropped: Promise<void>;
  /** Lets the held request through (a hold stops one request only). */
  release(): void;
}

interface HoldState extends Hold {
  rule: HoldRule;
  skip: number;
  taken: boolean;
  released: Promise<void>;
  state: { arrived: boolean; dropped: boolean; released: boolean };
  markArrived(): void;
  markDropped(): void;
}

interface BulkJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  query: string;
  state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';
  polls: number;
  /** Row numbers of the result, in order; records are generated per results page. */
  numbers: number[];
  fields: SimField[];
  createdDate: string;
  apiVersion: string;
  errorMessage?: string;
}

interface Cursor {
  numbers: number[];
  fields: SimField[];
  objectName: string;
  pos: number;
  pageSize: number;
  all: boolean;
}

export class SalesforceSimulator {
  readonly org: SimOrg;
  private server?: http.Server;
  private readonly sessions = new Map<string, { expiresAt: number; user: string }>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly cursors = new Map<string, Cursor>();
  private readonly jobs = new Map<string, BulkJob>();
  private faults: FaultRule[] = [];
  private holds: HoldState[] = [];
  private apiUsed = 0;
  private resultsInFlight = 0;
  private counters: SimStats = { bulkJobs: 0, orderedBulkJobs: 0, resultPagesCalls: 0, resultDownloads: 0, gzipResults: 0, maxResultsInFlight: 0 };
  private bulkJobsCreated = 0;
  private resultBytesServed = 0;
  private readonly limitMax: Record<SimLimitName, number>;
  /** Usage of each limit by the org's other clients (set through setLimits). */
  private readonly usedElsewhere: Record<SimLimitName, number> = { DailyApiRequests: 0, DailyBulkV2QueryJobs: 0, DailyBulkV2QueryFileStorageMB: 0 };
  url = '';

  stats(): SimStats {
    return { ...this.counters };
  }

  resetStats(): void {
    for (const k of Object.keys(this.counters) as (keyof SimStats)[]) this.counters[k] = 0;
  }

  /** Each results page waits this long before it is served (a model of Salesforce's side of a download). */
  setResultLatency(ms: number): void {
    this.config.resultLatencyMs = ms;
  }

  /** Jobs with more result rows than this fail with QUERY_TIMEOUT (undefined: none fails). */
  setBulkTimeoutRows(rows: number | undefined): void {
    this.config.bulkTimeoutRows = rows;
  }

  /** The worker settings (SOURCES__SALESFORCE__*) that log in to this simulator as its default user. */
  settingsEnv(): Record<string, string> {
    const U = SIM_DEFAULTS.user;
    return {
      [salesforceEnv.domain]: this.url,
      [salesforceEnv.userName]: U.username,
      [salesforceEnv.password]: U.password,
      [salesforceEnv.securityToken]: U.securityToken,
    };
  }
  readonly users: SimUser[];
  readonly orgId: string;
  readonly clients: { clientId: string; clientSecret: string }[];
  sessionTtlMs: number;

  constructor(private readonly config: SimConfig = {}) {
    this.org = new SimOrg(config.rowCounts);
    this.users = config.users ?? [SIM_DEFAULTS.user];
    this.orgId = config.orgId ?? SIM_DEFAULTS.orgId;
    this.clients = config.clients ?? [SIM_DEFAULTS.client];
    this.sessionTtlMs = config.sessionTtlMs ?? 2 * 3600_000;
    this.limitMax = { DailyApiRequests: config.dailyApiLimit ?? 15000, DailyBulkV2QueryJobs: 10000, DailyBulkV2QueryFileStorageMB: 1048576 };
    if (config.limits) this.setLimits(config.limits);
  }

  /** What this simulator counted so far (tests compare a sync's own figures with it). */
  get usage(): SimUsage {
    return { apiRequests: this.apiUsed, bulkJobs: this.bulkJobsCreated, resultBytes: this.resultBytesServed };
  }

  private ownUsage(name: SimLimitName): number {
    if (name === 'DailyApiRequests') return this.apiUsed;
    if (name === 'DailyBulkV2QueryJobs') return this.bulkJobsCreated;
    return Math.ceil(this.resultBytesServed / (1024 * 1024));
  }

  /** The daily limits as `GET /limits` reports them. */
  limits(): Record<SimLimitName, { Max: number; Remaining: number }> {
    const out = {} as Record<SimLimitName, { Max: number; Remaining: number }>;
    for (const name of SIM_LIMITS) out[name] = { Max: this.limitMax[name], Remaining: Math.max(0, this.limitMax[name] - this.usedElsewhere[name] - this.ownUsage(name)) };
    return out;
  }

  /** Changes limits: a Max, and a Remaining that holds from now on less what the simulator serves next. */
  setLimits(update: LimitsUpdate): void {
    for (const [name, u] of Object.entries(update) as [string, { Max?: number; Remaining?: number } | undefined][]) {
      if (!(SIM_LIMITS as readonly string[]).includes(name)) throw new Error(`no limit ${name}: the simulator counts ${SIM_LIMITS.join(', ')}`);
      const limit = name as SimLimitName;
      if (u?.Max !== undefined) this.limitMax[limit] = Number(u.Max);
      if (u?.Remaining !== undefined) this.usedElsewhere[limit] = this.limitMax[limit] - Number(u.Remaining) - this.ownUsage(limit);
    }
  }

  private limitInfo(): string {
    return `api-usage=${this.usedElsewhere.DailyApiRequests + this.apiUsed}/${this.limitMax.DailyApiRequests}`;
  }

  get instanceUrl(): string {
    return this.config.publicUrl ?? this.url;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.json(res, 500, [{ message: (error as Error).message, errorCode: 'UNKNOWN_EXCEPTION' }]);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.config.port ?? 0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Makes every session invalid (as if they all expired). */
  expireSessions(): void {
    this.sessions.clear();
  }

  addFault(rule: FaultRule): void {
    this.faults.push(rule);
  }

  clearFaults(): void {
    this.faults = [];
    // Nothing stays stuck behind a cleared fault.
    for (const h of this.holds) h.release();
    this.holds = [];
  }

  /** Holds the next request that matches `rule` (after `skip` matching ones) until released. */
  hold(rule: HoldRule): Hold {
    let markArrived!: () => void;
    let markDropped!: () => void;
    let release!: () => void;
    const state = { arrived: false, dropped: false, released: false };
    const h: HoldState = {
      id: crypto.randomUUID(),
      rule,
      skip: rule.skip ?? 0,
      taken: false,
      state,
      arrived: new Promise<void>((r) => (markArrived = r)),
      dropped: new Promise<void>((r) => (markDropped = r)),
      released: new Promise<void>((r) => (release = r)),
      markArrived: () => ((state.arrived = true), markArrived()),
      markDropped: () => ((state.dropped = true), markDropped()),
      release: () => ((state.released = true), release()),
    };
    this.holds.push(h);
    return h;
  }

  /** The object a request reads, where the request says (describe path, SOQL, locator, Bulk job). */
  private requestObject(path: string, url: URL): string | undefined {
    const sobject = /\/sobjects\/([A-Za-z0-9_]+)/.exec(path)?.[1];
    if (sobject) return sobject;
    const soql = url.searchParams.get('q');
    if (soql) return /\bFROM\s+([A-Za-z0-9_]+)/i.exec(soql)?.[1];
    const locator = /\/(?:query|queryAll)\/([A-Za-z0-9-]+)$/.exec(path)?.[1];
    if (locator) return this.cursors.get(locator)?.objectName;
    const job = /\/jobs\/query\/([A-Za-z0-9]+)/.exec(path)?.[1];
    return job ? this.jobs.get(job)?.object : undefined;
  }

  /** Waits while a hold stops this request; a hold takes one request, after its `skip`. */
  private async passHolds(req: http.IncomingMessage, res: http.ServerResponse, path: string, url: URL): Promise<void> {
    const h = this.holds.find((x) => !x.taken && path.includes(x.rule.path) && (!x.rule.object || this.requestObject(path, url) === x.rule.object) && x.skip-- <= 0);
    if (!h) return;
    h.taken = true;
    res.once('close', () => {
      if (!res.writableFinished) h.markDropped();
    });
    h.markArrived();
    await h.released;
  }

  private takeFault(path: string): FaultRule | undefined {
    const rule = this.faults.find((f) => f.count > 0 && path.includes(f.path));
    if (rule) rule.count--;
    return rule;
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'sforce-limit-info': this.limitInfo(), ...headers });
    res.end(JSON.stringify(body));
  }

  private newSession(user: string): string {
    const token = `${this.orgId.slice(0, 15)}!AQ${crypto.randomBytes(24).toString('base64url')}`;
    this.sessions.set(token, { expiresAt: Date.now() + this.sessionTtlMs, user });
    return token;
  }

  private async body(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Salesforce refuses request URLs over 16 KB (long GET queries of very wide objects).
    if ((req.url ?? '').length > 16_384) {
      res.writeHead(414, { 'content-type': 'text/html' });
      res.end('<html><body>414 Request-URI Too Long</body></html>');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '');

    if (path.startsWith('/__sim/')) return this.control(req, res, path);

    await this.passHolds(req, res, path, url);
    const fault = this.takeFault(path);
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'drop-connection') {
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
      res.write('{"totalSize":1,"done":false,"records":[{"attrib');
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'unavailable') return this.json(res, 503, [{ message: 'Service Unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);

    const soap = /^\/services\/Soap\/u\/(\d+\.\d+)$/.exec(path);
    if (soap && req.method === 'POST') return this.soapLogin(await this.body(req), soap[1]!, res);
    if (path === '/services/oauth2/token' && req.method === 'POST') return this.oauthToken(await this.body(req), res);
    const identity = /^\/id\/([A-Za-z0-9]+)\/([A-Za-z0-9]+)$/.exec(path);
    if (identity && req.method === 'GET') return this.identity(req, res, url, identity[1]!, identity[2]!);
    if (path === '/services/data') {
      return this.json(res, 200, API_VERSIONS.map((v) => ({ label: `Winter '${v}`, url: `/services/data/v${v}`, version: v })));
    }

    const data = /^\/services\/data\/v(\d+\.\d+)(\/.*)?$/.exec(path);
    if (!data) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    const version = data[1]!;
    if (!API_VERSIONS.includes(version)) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);

    const auth = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const session = auth ? this.sessions.get(auth) : undefined;
    if (fault?.kind === 'expire-session' && auth) this.sessions.delete(auth);
    if (!session || session.expiresAt < Date.now() || fault?.kind === 'expire-session') {
      return this.json(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
    this.apiUsed++;
    if (fault?.kind === 'request-limit') {
      return this.json(res, 403, [{ message: `TotalRequests Limit exceeded.`, errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    }
    const rest = data[2] ?? '';
    const body = req.method === 'POST' || req.method === 'PATCH' ? await this.body(req) : '';
    try {
      if (rest.startsWith('/jobs/query')) return await this.bulk(req, res, version, rest, url, body);
      return this.rest(req, res, version, rest, url, fault);
    } catch (error) {
      if (error instanceof SoqlError) return this.json(res, 400, [{ message: error.message, errorCode: error.errorCode }]);
      throw error;
    }
  }

  private rest(req: http.IncomingMessage, res: http.ServerResponse, version: string, rest: string, url: URL, fault?: FaultRule): void {
    if (rest === '') return this.json(res, 200, { sobjects: `/services/data/v${version}/sobjects`, query: `/services/data/v${version}/query`, limits: `/services/data/v${version}/limits`, identity: this.identityUrl });
    if (rest === '/limits') return this.json(res, 200, this.limits());
    if (rest === '/sobjects') {
      return this.json(res, 200, {
        encoding: 'UTF-8',
        maxBatchSize: 200,
        sobjects: [...this.org.objects.values()].map((o) => ({
          name: o.name, label: o.label, keyPrefix: o.keyPrefix, custom: o.custom, queryable: true, retrieveable: true, createable: true, deletable: true,
          urls: { sobject: `/services/data/v${version}/sobjects/${o.name}`, describe: `/services/data/v${version}/sobjects/${o.name}/describe` },
        })),
      });
    }
    const describe = /^\/sobjects\/([A-Za-z0-9_]+)\/describe$/.exec(rest);
    if (describe) {
      const o = this.org.object(describe[1]!);
      if (!o) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
      return this.json(res, 200, {
        name: o.name, label: o.label, keyPrefix: o.keyPrefix, custom: o.custom, queryable: true,
        fields: o.fields.map((f) => ({
          name: f.name, label: f.label, type: f.type, soapType: soapType(f), length: f.length ?? 0, precision: f.precision ?? 0, scale: f.scale ?? 0,
          digits: f.digits ?? 0, nillable: f.nillable ?? true, custom: f.custom ?? false, calculated: f.calculated ?? false,
          compoundFieldName: f.compoundFieldName ?? null, referenceTo: f.referenceTo ? [this.objectForPrefix(f.referenceTo)] : [],
          filterable: f.type !== 'textarea' && f.type !== 'base64', sortable: f.type !== 'textarea' && f.type !== 'base64', updateable: !['id', 'datetime'].includes(f.type),
        })),
        urls: { describe: `/services/data/v${version}/sobjects/${o.name}/describe` },
      });
    }
    const query = /^\/(query|queryAll)(?:\/([A-Za-z0-9-]+))?$/.exec(rest);
    if (query) {
      const all = query[1] === 'queryAll';
      if (query[2]) {
        const cursor = this.cursors.get(query[2]);
        if (!cursor || fault?.kind === 'invalid-locator') return this.json(res, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
        return this.page(res, version, query[2], cursor);
      }
      const soql = url.searchParams.get('q');
      if (!soql) return this.json(res, 400, [{ message: 'A query string has to be specified', errorCode: 'MALFORMED_QUERY' }]);
      const parsed = parseSoql(soql);
      const result = this.org.run(parsed, all);
      const batch = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1];
      const pageSize = Math.min(2000, Math.max(200, batch ? Number(batch) : 2000));
      const id = `01g${crypto.randomBytes(6).toString('hex')}`;
      const cursor: Cursor = { numbers: result.numbers, fields: result.fields, objectName: result.object.name, pos: 0, pageSize, all };
      this.cursors.set(id, cursor);
      return this.page(res, version, id, cursor);
    }
    return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  }

  /** Bulk API 2.0 query jobs: create, poll, CSV results by locator, abort, delete. */
  private async bulk(req: http.IncomingMessage, res: http.ServerResponse, version: string, rest: string, url: URL, body: string): Promise<void> {
    const method = req.method ?? 'GET';
    const info = (job: BulkJob) => ({
      id: job.id, operation: job.operation, object: job.object, createdById: '005000000000001AAA', createdDate: job.createdDate, systemModstamp: job.createdDate,
      state: job.state, concurrencyMode: 'Parallel', contentType: 'CSV', apiVersion: Number(version), lineEnding: 'LF', columnDelimiter: 'COMMA',
      ...(job.state === 'JobComplete' ? { numberRecordsProcessed: job.numbers.length, retries: 0, totalProcessingTime: 40 } : {}),
      ...(job.state === 'Failed' ? { errorMessage: job.errorMessage } : {}),
    });
    if (rest === '/jobs/query' && method === 'POST') {
      if (this.config.bulkEnabled === false) return this.json(res, 400, [{ errorCode: 'FUNCTIONALITY_NOT_ENABLED', message: 'Bulk API is not enabled for this Organization' }]);
      const request = JSON.parse(body || '{}') as { operation?: string; query?: string };
      if (request.operation !== 'query' && request.operation !== 'queryAll') return this.json(res, 400, [{ errorCode: 'INVALIDJOB', message: `InvalidJob : Invalid operation: ${request.operation}` }]);
      const parsed = parseSoql(request.query ?? '');
      const o = this.org.object(parsed.object);
      if (o && !o.bulkQueryable) return this.json(res, 400, [{ errorCode: 'INVALIDENTITY', message: `Entity '${o.name}' is not supported by the Bulk API.` }]);
      const result = this.org.run(parsed, request.operation === 'queryAll');
      const compound = result.fields.find((f) => f.type === 'address' || f.type === 'location');
      if (compound) return this.json(res, 400, [{ errorCode: 'API_ERROR', message: `Selecting compound data not supported in Bulk Query` }]);
      const binary = result.fields.find((f) => f.type === 'base64');
      if (binary) return this.json(res, 400, [{ errorCode: 'INVALIDJOB', message: `InvalidJob : Binary field '${binary.name}' is not supported.` }]);
      // Salesforce splits a large query into primary-key chunks and runs them in parallel — unless
      // ORDER BY or LIMIT ask for one ordered result, which it must produce in one piece.
      const chunk = this.config.bulkChunkRows ?? 100_000;
      const ordered = parsed.orderBy.length > 0 || parsed.limit !== undefined;
      this.counters.bulkJobs++;
      if (ordered && this.org.count(result.object.name) > chunk) this.counters.orderedBulkJobs++;
      let numbers = result.numbers;
      if (!ordered && numbers.length > chunk) {
        const chunks: number[][] = [];
        for (let i = 0; i < numbers.length; i += chunk) chunks.push(numbers.slice(i, i + chunk));
        // Chunks finish in no particular order: the last first, here.
        numbers = chunks.reverse().flat();
      }
      const timeout = this.config.bulkTimeoutRows;
      const job: BulkJob = {
        id: `750${crypto.randomBytes(6).toString('hex').slice(0, 12)}AAA`, operation: request.operation, object: result.object.name, query: request.query!,
        state: 'UploadComplete', polls: 0, numbers, fields: result.fields, createdDate: apiDatetime(new Date().toISOString()), apiVersion: version,
        ...(timeout !== undefined && numbers.length > timeout ? { errorMessage: 'Failed to process query: QUERY_TIMEOUT: Your query request was running for too long.' } : {}),
      };
      this.jobs.set(job.id, job);
      this.bulkJobsCreated++;
      return this.json(res, 200, info(job));
    }
    const m = /^\/jobs\/query\/([A-Za-z0-9]+)(\/results|\/resultPages)?$/.exec(rest);
    const job = m ? this.jobs.get(m[1]!) : undefined;
    if (!m || !job) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (!m[2]) {
      if (method === 'DELETE') {
        this.jobs.delete(job.id);
        res.writeHead(204).end();
        return;
      }
      if (method === 'PATCH') {
        if ((JSON.parse(body || '{}') as { state?: string }).state === 'Aborted' && job.state !== 'JobComplete') job.state = 'Aborted';
        return this.json(res, 200, info(job));
      }
      // Jobs take a couple of polls to finish, as real ones take time.
      if (job.state === 'UploadComplete' || job.state === 'InProgress') job.state = ++job.polls >= 2 ? (job.errorMessage ? 'Failed' : 'JobComplete') : 'InProgress';
      return this.json(res, 200, info(job));
    }
    if (version !== job.apiVersion) return this.json(res, 409, [{ errorCode: 'CONFLICT', message: `The job was created with API version ${job.apiVersion}; get its results with the same version.` }]);
    // Parallel result pages exist from API 62.0 on.
    if (m[2] === '/resultPages' && Number(version) < 62) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (job.state !== 'JobComplete') return this.json(res, 400, [{ errorCode: 'INVALIDJOBSTATE', message: `job is in state ${job.state}` }]);
    if (m[2] === '/resultPages') return this.resultPages(res, version, job, url);
    this.resultsInFlight++;
    this.counters.maxResultsInFlight = Math.max(this.counters.maxResultsInFlight, this.resultsInFlight);
    try {
      await this.results(req, res, job, url);
    } finally {
      this.resultsInFlight--;
    }
  }

  /**
   * Up to five links to result pages and the link to the next five: clients download them in
   * parallel (results of either kind only with the API version that created the job, else 409).
   */
  private resultPages(res: http.ServerResponse, version: string, job: BulkJob, url: URL): void {
    this.counters.resultPagesCalls++;
    const size = this.config.resultPageRecords ?? 10_000;
    const start = Number(url.searchParams.get('locator') ? Buffer.from(url.searchParams.get('locator')!, 'base64url').toString() : '0');
    if (!Number.isInteger(start) || start < 0 || start > job.numbers.length) return this.json(res, 400, [{ errorCode: 'INVALID_LOCATOR', message: 'invalid locator' }]);
    const locator = (n: number) => Buffer.from(String(n)).toString('base64url');
    const base = `/services/data/v${job.apiVersion}/jobs/query/${job.id}`;
    const links: { resultUrl: string }[] = [];
    let at = start;
    while (links.length < 5 && (at < job.numbers.length || (at === 0 && links.length === 0))) {
      links.push({ resultUrl: `${base}/results?locator=${locator(at)}&maxRecords=${size}` });
      at += size;
    }
    const done = at >= job.numbers.length;
    return this.json(res, 200, { resultPages: links, nextRecordsUrl: done ? null : `${base}/resultPages?locator=${locator(at)}`, done });
  }

  /** One page of a job's CSV results, from a locator (gzip-compressed when the client accepts it). */
  private async results(req: http.IncomingMessage, res: http.ServerResponse, job: BulkJob, url: URL): Promise<void> {
    if (this.config.resultLatencyMs) await new Promise((r) => setTimeout(r, this.config.resultLatencyMs));
    const offset = Number(url.searchParams.get('locator') ? Buffer.from(url.searchParams.get('locator')!, 'base64url').toString() : '0');
    if (!Number.isInteger(offset) || offset < 0 || offset > job.numbers.length) return this.json(res, 400, [{ errorCode: 'INVALID_LOCATOR', message: 'invalid locator' }]);
    const maxRecords = Math.max(1, Number(url.searchParams.get('maxRecords') ?? 50_000));
    const o = this.org.object(job.object)!;
    const slice = job.numbers.slice(offset, offset + maxRecords);
    const next = offset + slice.length;
    const lines = [job.fields.map((f) => csvCell(f.name)).join(',')];
    const cells = job.fields.map(bulkCsvFormatter);
    const width = job.fields.length;
    for (const n of slice) {
      let line = '';
      // Rows no test changed are generated field by field, only the job's fields.
      const r = this.org.changed(o, n) ? this.org.record(o, n, true)! : undefined;
      for (let k = 0; k < width; k++) {
        const f = job.fields[k]!;
        const cell = cells[k]!(r ? r[f.name] : this.org.generated(o, f, n));
        line = k === 0 ? cell : `${line},${cell}`;
      }
      lines.push(line);
    }
    const text = Buffer.from(`${lines.join('\n')}\n`);
    const compress = this.config.gzip !== false && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    this.counters.resultDownloads++;
    if (compress) this.counters.gzipResults++;
    const bytes = compress ? await gzip(text, { level: 1 }) : text;
    res.writeHead(200, {
      'content-type': 'text/csv',
      ...(compress ? { 'content-encoding': 'gzip' } : {}),
      'sforce-locator': next < job.numbers.length ? Buffer.from(String(next)).toString('base64url') : 'null',
      'sforce-numberofrecords': String(slice.length),
      'sforce-limit-info': this.limitInfo(),
    });
    this.resultBytesServed += text.length;
    res.end(bytes);
  }

  private objectForPrefix(prefix: string): string {
    return [...this.org.objects.values()].find((o) => o.keyPrefix === prefix)?.name ?? 'User';
  }

  /** One page of a query result; nextRecordsUrl names the rest as Salesforce does (<locator>-<offset>). */
  private page(res: http.ServerResponse, version: string, locator: string, cursor: Cursor): void {
    const [id, offsetText] = locator.split('-');
    const offset = offsetText ? Number(offsetText) : 0;
    const o = this.org.object(cursor.objectName)!;
    const slice = cursor.numbers.slice(offset, offset + cursor.pageSize).map((n) => this.org.record(o, n, true)!);
    const next = offset + slice.length;
    const done = next >= cursor.numbers.length;
    if (done) this.cursors.delete(id!);
    else this.cursors.set(`${id}-${next}`, cursor);
    this.json(res, 200, {
      totalSize: cursor.numbers.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/${cursor.all ? 'queryAll' : 'query'}/${id}-${next}` }),
      records: slice.map((r) => this.restRecord(version, cursor.objectName, cursor.fields, r)),
    });
  }

  private restRecord(version: string, objectName: string, fields: SimField[], r: SimRecord): Record<string, unknown> {
    const out: Record<string, unknown> = { attributes: { type: objectName, url: `/services/data/v${version}/sobjects/${objectName}/${String(r.Id)}` } };
    for (const f of fields) {
      let v = r[f.name];
      if (v !== null && v !== undefined) {
        if (f.type === 'datetime') v = apiDatetime(String(v));
        // REST returns the blob's URL for base64 fields, not its content.
        if (f.type === 'base64') v = `/services/data/v${version}/sobjects/${objectName}/${String(r.Id)}/${f.name}`;
      }
      if (f.type === 'address' && f.compoundFieldName === null) v = compoundAddress(r, f.name);
      out[f.name] = v ?? null;
    }
    return out;
  }



  /** The identity URL of the simulator's user, as OAuth token responses name it (`id`). */
  get identityUrl(): string {
    return `${this.instanceUrl}/id/${this.orgId}/${SIM_USER_ID}`;
  }

  /**
   * The identity service (GET /id/{orgId}/{userId}) with the access token in the Authorization
   * header or the oauth_token parameter; its URLs hold {version} unless `version` names one.
   */
  private identity(req: http.IncomingMessage, res: http.ServerResponse, url: URL, orgId: string, userId: string): void {
    const token = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('oauth_token') ?? undefined;
    const fail = (status: number, code: string) => {
      res.writeHead(status, { 'content-type': 'text/plain;charset=UTF-8' });
      res.end(code);
    };
    if (!token) return fail(403, 'Missing_OAuth_Token');
    const session = this.sessions.get(token);
    if (!session || session.expiresAt < Date.now()) return fail(403, 'Bad_OAuth_Token');
    if (orgId.slice(0, 15) !== this.orgId.slice(0, 15)) return fail(403, 'Wrong_Org');
    if (userId.slice(0, 15) !== SIM_USER_ID.slice(0, 15)) return fail(404, 'Bad_Id');
    const asked = url.searchParams.get('version');
    const version = asked === 'latest' ? API_VERSIONS.at(-1)! : (asked ?? '{version}');
    const org15 = this.orgId.slice(0, 15);
    const data = `${this.instanceUrl}/services/data/v${version}`;
    this.json(res, 200, {
      id: this.identityUrl, asserted_user: true, user_id: SIM_USER_ID, organization_id: this.orgId, username: session.user, display_name: session.user.split('@')[0],
      email: session.user, active: true, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0,
      urls: {
        enterprise: `${this.instanceUrl}/services/Soap/c/${version}/${org15}`, partner: `${this.instanceUrl}/services/Soap/u/${version}/${org15}`,
        rest: `${data}/`, sobjects: `${data}/sobjects/`, search: `${data}/search/`, query: `${data}/query/`, profile: `${this.instanceUrl}/${SIM_USER_ID}`,
      },
    });
  }

  private soapFault(res: http.ServerResponse, code: string, message: string): void {
    res.writeHead(500, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${code}: ${message}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>${code}</sf:exceptionCode><sf:exceptionMessage>${message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
    );
  }

  /** The partner API login: username + password+token, or username + password with the org id header. */
  private soapLogin(body: string, version: string, res: http.ServerResponse): void {
    const element = (name: string) => new RegExp(`<(?:[\\w-]+:)?${name}>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(body)?.[1];
    const unescape = (s: string | undefined) => s?.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const username = unescape(element('username'));
    const password = unescape(element('password'));
    const orgId = unescape(element('organizationId'));
    const user = this.users.find((u) => u.username === username);
    const ok = user && (password === user.password + user.securityToken || (orgId !== undefined && orgId.slice(0, 15) === this.orgId.slice(0, 15) && password === user.password));
    if (!user || !ok) return this.soapFault(res, 'INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.');
    const session = this.newSession(user.username);
    const serverUrl = `${this.instanceUrl}/services/Soap/u/${version}/${this.orgId}`;
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>` +
        `<metadataServerUrl>${this.instanceUrl}/services/Soap/m/${version}/${this.orgId}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>` +
        `<serverUrl>${serverUrl}</serverUrl><sessionId>${session}</sessionId><userId>005000000000001AAA</userId>` +
        `<userInfo><organizationId>${this.orgId}</organizationId><organizationName>Simulated Org</organizationName><sessionSecondsValid>${Math.round(this.sessionTtlMs / 1000)}</sessionSecondsValid><userName>${user.username}</userName></userInfo>` +
        `</result></loginResponse></soapenv:Body></soapenv:Envelope>`,
    );
  }

  /** The OAuth2 token endpoint: password, client_credentials and refresh_token grants. */
  private oauthToken(body: string, res: http.ServerResponse): void {
    const form = new URLSearchParams(body);
    const fail = (error: string, description: string) => this.json(res, 400, { error, error_description: description });
    const client = this.clients.find((c) => c.clientId === form.get('client_id'));
    const grant = form.get('grant_type');
    const issue = (user: string, withRefresh: boolean) => {
      const token = this.newSession(user);
      const out: Record<string, string> = {
        access_token: token, instance_url: this.instanceUrl, id: `${this.instanceUrl}/id/${this.orgId}/005000000000001AAA`, token_type: 'Bearer',
        issued_at: String(Date.now()), signature: crypto.randomBytes(32).toString('base64'),
      };
      if (withRefresh) {
        const refresh = `5Aep${crypto.randomBytes(32).toString('base64url')}`;
        this.refreshTokens.set(refresh, user);
        out.refresh_token = refresh;
      }
      this.json(res, 200, out);
    };
    if (grant === 'password') {
      if (!client || client.clientSecret !== form.get('client_secret')) return fail('invalid_client_id', 'client identifier invalid');
      const user = this.users.find((u) => u.username === form.get('username'));
      const password = form.get('password');
      if (!user || (password !== user.password + user.securityToken && password !== user.password)) return fail('invalid_grant', 'authentication failure');
      return issue(user.username, true);
    }
    if (grant === 'client_credentials') {
      if (!client || client.clientSecret !== form.get('client_secret')) return fail('invalid_client', 'invalid client credentials');
      return issue(this.users[0]!.username, false);
    }
    if (grant === 'refresh_token') {
      if (!client) return fail('invalid_client_id', 'client identifier invalid');
      const user = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!user) return fail('invalid_grant', 'expired access/refresh token');
      return issue(user, false);
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const [head, claims, signature] = (form.get('assertion') ?? '').split('.');
      if (!head || !claims || !signature || !this.config.jwtCertificate) return fail('invalid_grant', 'invalid assertion');
      const key = this.config.jwtCertificate.includes('CERTIFICATE') ? new crypto.X509Certificate(this.config.jwtCertificate).publicKey : this.config.jwtCertificate;
      const valid = crypto.verify('RSA-SHA256', Buffer.from(`${head}.${claims}`), key, Buffer.from(signature, 'base64url'));
      if (!valid) return fail('invalid_grant', 'invalid assertion');
      const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { iss?: string; sub?: string; aud?: string; exp?: number };
      if (!this.clients.some((k) => k.clientId === c.iss)) return fail('invalid_client_id', 'client identifier invalid');
      if (!c.exp || c.exp * 1000 < Date.now()) return fail('invalid_grant', 'expired authorization code');
      const user = this.users.find((u) => u.username === c.sub);
      if (!user) return fail('invalid_grant', 'user hasn\'t approved this consumer');
      return issue(user.username, false);
    }
    return fail('unsupported_grant_type', 'grant type not supported');
  }

  /** Control API for tests and the demo: change data, inject faults. */
  private async control(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const body = req.method === 'POST' ? (JSON.parse((await this.body(req)) || '{}') as Record<string, unknown>) : {};
    try {
      switch (path) {
        case '/__sim/update':
          return this.json(res, 200, this.org.update(String(body.object), String(body.id), body.values as SimRecord));
        case '/__sim/delete':
          this.org.delete(String(body.object), String(body.id));
          return this.json(res, 200, { deleted: body.id });
        case '/__sim/hard-delete':
          this.org.hardDelete(String(body.object), String(body.id));
          return this.json(res, 200, { hardDeleted: body.id });
        case '/__sim/empty-recycle-bin':
          return this.json(res, 200, { purged: this.org.emptyRecycleBin(body.object === undefined ? undefined : String(body.object)) });
        case '/__sim/add-field': {
          // Existing rows hold `value` at once (a default, a formula, an admin's backfill).
          const spec = body.field as { name: string; type: SimField['type']; value?: unknown; label?: string; calculated?: boolean };
          this.org.addField(String(body.object), { name: spec.name, type: spec.type, label: spec.label ?? spec.name, nillable: true, custom: spec.name.endsWith('__c'), calculated: spec.calculated ?? false, compoundFieldName: null, gen: () => spec.value ?? null });
          return this.json(res, 200, { added: spec.name });
        }
        case '/__sim/set-formula':
          // {"object": "Account", "field": "RatingScore__c", "value": 1.5, "id"?: "001..."}: no SystemModstamp moves.
          this.org.setFormula(String(body.object), String(body.field), body.value ?? null, body.id === undefined ? undefined : String(body.id));
          return this.json(res, 200, { set: body.field });
        case '/__sim/fault':
          this.addFault(body as unknown as FaultRule);
          return this.json(res, 200, { faults: this.faults.filter((f) => f.count > 0).length });
        case '/__sim/hold':
          return this.json(res, 200, { id: this.hold(body as unknown as HoldRule).id });
        case '/__sim/release': {
          const h = this.holds.find((x) => x.id === body.id);
          h?.release();
          return this.json(res, h ? 200 : 404, { released: Boolean(h) });
        }
        case '/__sim/holds':
          return this.json(res, 200, this.holds.map((h) => ({ id: h.id, ...h.rule, ...h.state })));
        case '/__sim/expire-sessions':
          this.expireSessions();
          return this.json(res, 200, { expired: true });
        case '/__sim/stats':
          return this.json(res, 200, this.stats());
        case '/__sim/reset-stats':
          this.resetStats();
          return this.json(res, 200, this.stats());
        case '/__sim/result-latency':
          this.setResultLatency(Number(body.ms ?? 0));
          return this.json(res, 200, { ms: this.config.resultLatencyMs });
        case '/__sim/bulk-timeout':
          this.setBulkTimeoutRows(typeof body.rows === 'number' ? body.rows : undefined);
          return this.json(res, 200, { rows: this.config.bulkTimeoutRows ?? null });
        case '/__sim/limits':
          // POST {"DailyApiRequests": {"Max": 100, "Remaining": 10}} puts the org near or over a limit.
          this.setLimits(body as LimitsUpdate);
          return this.json(res, 200, this.limits());
        case '/__sim/usage':
          return this.json(res, 200, this.usage);
        case '/__sim/counts':
          for (const [name, n] of Object.entries(body)) this.org.setCount(name, Number(n));
          return this.json(res, 200, body);
        default:
          return this.json(res, 404, { error: `no control endpoint ${path}` });
      }
    } catch (error) {
      return this.json(res, 400, { error: (error as Error).message });
    }
  }
}

function soapType(f: SimField): string {
  switch (f.type) {
    case 'id':
    case 'reference': return 'tns:ID';
    case 'boolean': return 'xsd:boolean';
    case 'int': return 'xsd:int';
    case 'double':
    case 'percent':
    case 'currency': return 'xsd:double';
    case 'date': return 'xsd:date';
    case 'datetime': return 'xsd:dateTime';
    case 'time': return 'xsd:time';
    case 'base64': return 'xsd:base64Binary';
    case 'address': return 'urn:address';
    default: return 'xsd:string';
  }
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

/** An address compound field as REST returns it, from its component fields. */
function compoundAddress(r: SimRecord, name: string): Record<string, unknown> {
  const prefix = name.replace(/Address$/, '');
  return { street: r[`${prefix}Street`] ?? null, city: r[`${prefix}City`] ?? null, postalCode: r[`${prefix}PostalCode`] ?? null, country: r[`${prefix}Country`] ?? null, latitude: r[`${prefix}Latitude`] ?? null, longitude: r[`${prefix}Longitude`] ?? null, geocodeAccuracy: null, state: null };
}
