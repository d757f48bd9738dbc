import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimOrg } from './org';
import { PageCache } from './page-cache';
import { SoqlError } from './soql';
import { salesforceEnv } from '../salesforce/settings';
import { bulkV1 } from './bulk-v1';
import { bulk } from './bulk';
import type { SimContext } from './context';
import { control } from './control';
import { identity, oauthToken, soapLogin } from './login';
import { rest } from './rest';
import { composite } from './composite';
import {
  API_VERSIONS,
  DEFAULT_BULK_QUEUE_MS,
  SIM_DEFAULTS,
  SIM_LIMITS,
  SIM_USER_ID,
  type BulkJob,
  type Cursor,
  type FaultRule,
  type Hold,
  type HoldRule,
  type HoldState,
  type LimitsUpdate,
  type SimConfig,
  type SimLimitName,
  type SimStats,
  type SimUsage,
  type SimUser,
} from './types';

/** SIM_BULK_QUEUE_MS: the queue time of Bulk jobs when the config does not say (the test suite sets 0). */
function bulkQueueFromEnv(): number | undefined {
  const raw = process.env.SIM_BULK_QUEUE_MS;
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`SIM_BULK_QUEUE_MS must be a number of milliseconds, not ${JSON.stringify(raw)}`);
  return ms;
}

export { API_VERSIONS, DEFAULT_BULK_QUEUE_MS, SIM_DEFAULTS, SIM_LIMITS, SIM_USER_ID } from './types';
export type { Hold, HoldRule, LimitsUpdate, SimConfig, SimLimitName, SimStats, SimUsage, SimUser } from './types';

/*
 * A Salesforce org on 127.0.0.1 that speaks Salesforce's wire formats, for the demo, `npm run sim`,
 * the bench and the tests. This file holds the org's state and routes requests; each protocol has
 * its own file: login.ts (partner SOAP login, OAuth2 token endpoint, identity URL), rest.ts
 * (describe, query/queryAll with nextRecordsUrl paging, limits), bulk.ts (Bulk API 2.0 query jobs,
 * results by locator or parallel result pages, gzip, PK chunking, QUERY_TIMEOUT) and control.ts
 * (the /__sim/ API: change data, inject faults, hold requests until a test releases them, read
 * what clients did). Errors come in Salesforce's envelopes.
 */

export class SalesforceSimulator implements SimContext {
  readonly org: SimOrg;
  server?: http.Server;
  readonly sessions = new Map<string, { expiresAt: number; user: string }>();
  readonly refreshTokens = new Map<string, string>();
  readonly cursors = new Map<string, Cursor>();
  readonly jobs = new Map<string, BulkJob>();
  faults: FaultRule[] = [];
  holds: HoldState[] = [];
  apiUsed = 0;
  /** The requests counted in apiUsed, by what they asked for (see requestKind). */
  readonly apiByKind: Record<string, number> = {};
  resultsInFlight = 0;
  counters: SimStats = { bulkJobs: 0, orderedBulkJobs: 0, resultPagesCalls: 0, resultDownloads: 0, gzipResults: 0, maxResultsInFlight: 0 };
  bulkJobsCreated = 0;
  resultBytesServed = 0;
  readonly limitMax: Record<SimLimitName, number>;
  /** Usage of each limit by the org's other clients (set through setLimits). */
  readonly usedElsewhere: Record<SimLimitName, number> = { DailyApiRequests: 0, DailyBulkV2QueryJobs: 0, DailyBulkV2QueryFileStorageMB: 0 };
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

  pageCache?: PageCache;

  /** On: Bulk results pages are rendered once and served from disk after that (benchmarks: see PageCache). Off removes them. */
  setPageCache(on: boolean): void {
    if (on) this.pageCache ??= new PageCache();
    else {
      this.pageCache?.clear();
      this.pageCache = undefined;
    }
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
  bulkQueueMs: number;

  constructor(readonly config: SimConfig = {}) {
    const generated = config.generatedObjects;
    this.org = new SimOrg(config.rowCounts, typeof generated === 'number' ? { objects: generated } : generated);
    if (config.pageCache) this.setPageCache(true);
    this.users = config.users ?? [SIM_DEFAULTS.user];
    this.orgId = config.orgId ?? SIM_DEFAULTS.orgId;
    this.clients = config.clients ?? [SIM_DEFAULTS.client];
    this.sessionTtlMs = config.sessionTtlMs ?? 2 * 3600_000;
    this.bulkQueueMs = config.bulkQueueMs ?? bulkQueueFromEnv() ?? DEFAULT_BULK_QUEUE_MS;
    this.limitMax = { DailyApiRequests: config.dailyApiLimit ?? 15000, DailyBulkV2QueryJobs: 10000, DailyBulkV2QueryFileStorageMB: 1048576 };
    if (config.limits) this.setLimits(config.limits);
  }

  /** What this simulator counted so far (tests compare a sync's own figures with it). */
  get usage(): SimUsage {
    return { apiRequests: this.apiUsed, bulkJobs: this.bulkJobsCreated, resultBytes: this.resultBytesServed, apiRequestsByKind: { ...this.apiByKind } };
  }

  ownUsage(name: SimLimitName): number {
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

  limitInfo(): string {
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
    this.setPageCache(false);
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
  requestObject(path: string, url: URL): string | undefined {
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
  async passHolds(req: http.IncomingMessage, res: http.ServerResponse, path: string, url: URL): Promise<void> {
    const h = this.holds.find(
      (x) =>
        !x.taken &&
        path.includes(x.rule.path) &&
        (!x.rule.search || url.search.includes(x.rule.search)) &&
        (!x.rule.object || this.requestObject(path, url) === x.rule.object) &&
        x.skip-- <= 0,
    );
    if (!h) return;
    h.taken = true;
    res.once('close', () => {
      if (!res.writableFinished) h.markDropped();
    });
    h.markArrived();
    await h.released;
  }

  takeFault(path: string, url?: URL): FaultRule | undefined {
    const rule = this.faults.find((f) => f.count > 0 && path.includes(f.path) && (!f.search || (url?.search ?? '').includes(f.search)));
    if (rule) rule.count--;
    return rule;
  }

  json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'sforce-limit-info': this.limitInfo(), ...headers });
    res.end(JSON.stringify(body));
  }

  newSession(user: string): string {
    const token = `${this.orgId.slice(0, 15)}!AQ${crypto.randomBytes(24).toString('base64url')}`;
    this.sessions.set(token, { expiresAt: Date.now() + this.sessionTtlMs, user });
    return token;
  }

  async body(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Salesforce refuses request URLs over 16 KB (long GET queries of very wide objects).
    if ((req.url ?? '').length > 16_384) {
      res.writeHead(414, { 'content-type': 'text/html' });
      res.end('<html><body>414 Request-URI Too Long</body></html>');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '');

    if (path.startsWith('/__sim/')) return control(this, req, res, path);

    await this.passHolds(req, res, path, url);
    const fault = this.takeFault(path, url);
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'drop-connection') {
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
      res.write('{"totalSize":1,"done":false,"records":[{"attrib');
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'unavailable') return this.json(res, 503, [{ message: 'Service Unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);

    const soap = /^\/services\/Soap\/u\/(\d+\.\d+)$/.exec(path);
    if (soap && req.method === 'POST') return soapLogin(this, await this.body(req), soap[1]!, res);
    if (path === '/services/oauth2/token' && req.method === 'POST') return oauthToken(this, await this.body(req), res);
    const identityPath = /^\/id\/([A-Za-z0-9]+)\/([A-Za-z0-9]+)$/.exec(path);
    if (identityPath && req.method === 'GET') return identity(this, req, res, url, identityPath[1]!, identityPath[2]!);
    if (path === '/services/data') {
      return this.json(
        res,
        200,
        API_VERSIONS.map((v) => ({ label: `Winter '${v}`, url: `/services/data/v${v}`, version: v })),
      );
    }

    const async = /^\/services\/async\/(\d+\.\d+)(\/.*)$/.exec(path);
    if (async) {
      if (!API_VERSIONS.includes(async[1]!)) return this.json(res, 404, { exceptionCode: 'InvalidUrl', exceptionMessage: 'unknown API version' });
      this.apiUsed++;
      this.apiByKind['bulk-v1'] = (this.apiByKind['bulk-v1'] ?? 0) + 1;
      const body = req.method === 'POST' ? await this.body(req) : '';
      return bulkV1(this, req, res, async[1]!, async[2]!, body);
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
    const kind = requestKind(req.method ?? 'GET', data[2] ?? '', url);
    this.apiByKind[kind] = (this.apiByKind[kind] ?? 0) + 1;
    if (fault?.kind === 'request-limit') {
      return this.json(res, 403, [{ message: `TotalRequests Limit exceeded.`, errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    }
    const resource = data[2] ?? '';
    const body = req.method === 'POST' || req.method === 'PATCH' ? await this.body(req) : '';
    try {
      if (resource.startsWith('/jobs/query')) return await bulk(this, req, res, version, resource, url, body);
      if (resource === '/composite' && req.method === 'POST') return await composite(this, res, version, body);
      return rest(this, req, res, version, resource, url, fault);
    } catch (error) {
      if (error instanceof SoqlError) return this.json(res, 400, [{ message: error.message, errorCode: error.errorCode }]);
      throw error;
    }
  }

  /** The identity URL of the simulator's user, as OAuth token responses name it (`id`). */
  get identityUrl(): string {
    return `${this.instanceUrl}/id/${this.orgId}/${SIM_USER_ID}`;
  }
}

/** What a REST or Bulk 2.0 request asked for, in a word (SimUsage.apiRequestsByKind): where a sync's API requests go. */
export function requestKind(method: string, resource: string, url: URL): string {
  if (resource === '') return 'resources';
  if (resource === '/limits') return 'limits';
  if (resource === '/sobjects') return 'describe-global';
  if (/^\/sobjects\/[^/]+\/describe$/.test(resource)) return 'describe';
  if (/^\/sobjects\/[^/]+\/deleted\/?$/.test(resource)) return 'get-deleted';
  const query = /^\/(query|queryAll)(\/[^/]+)?$/.exec(resource);
  if (query) return query[2] ? 'query-more' : /^\s*SELECT\s+COUNT\(\)/i.test(url.searchParams.get('q') ?? '') ? 'count' : 'query';
  const job = /^\/jobs\/query(\/[^/]+)?(\/results|\/resultPages)?$/.exec(resource);
  if (job) {
    if (!job[1]) return method === 'POST' ? 'bulk-create' : 'bulk-list';
    if (job[2]) return job[2] === '/results' ? 'bulk-results' : 'bulk-result-pages';
    return method === 'GET' ? 'bulk-poll' : method === 'DELETE' ? 'bulk-delete' : 'bulk-abort';
  }
  return resource.split('/')[1] ?? 'other';
}
