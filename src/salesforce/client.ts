import { ERROR_CODES, SyncError, type ErrorCode } from '../errors';
import type { Logger } from '../log';
import { connectionFailure, networkCode } from '../net';
import { authenticate, type Session } from './auth';
import { secretsOf, type SalesforceSettings } from './settings';

/** Salesforce error codes of a query locator that expired: asking again (from the last checkpoint) heals it. */
const EXPIRED_LOCATORS = new Set(['INVALID_QUERY_LOCATOR', 'INVALID_LOCATOR']);

/** The product's code for an answer of the Salesforce API. */
function apiErrorCode(errorCode: string, status: number, retryable: boolean): ErrorCode {
  if (EXPIRED_LOCATORS.has(errorCode)) return ERROR_CODES.QUERY_LOCATOR_EXPIRED;
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') return ERROR_CODES.SALESFORCE_REQUEST_LIMIT;
  if (errorCode === 'HOST_NOT_FOUND') return ERROR_CODES.HOST_NOT_FOUND;
  if (errorCode === 'INVALID_SESSION_ID') return ERROR_CODES.SALESFORCE_SESSION_EXPIRED;
  if (errorCode === 'API_VERSION_NOT_OFFERED') return ERROR_CODES.API_VERSION_NOT_OFFERED;
  if (errorCode === 'QUERY_TOO_LONG') return ERROR_CODES.QUERY_TOO_LONG;
  if (errorCode === 'CONNECTION') return ERROR_CODES.SALESFORCE_UNREACHABLE;
  if (retryable || status >= 500) return ERROR_CODES.SALESFORCE_UNAVAILABLE;
  return ERROR_CODES.SALESFORCE_REFUSED;
}

/** Salesforce's error code and message in an error answer ([{"message", "errorCode"}]); the text itself when it is not one. */
function parseApiError(status: number, text: string): { errorCode: string; message: string } {
  let errorCode = `HTTP_${status}`;
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { errorCode?: string; message?: string }[] | { error?: string; error_description?: string };
    const first = Array.isArray(parsed) ? parsed[0] : undefined;
    if (first?.errorCode) [errorCode, message] = [first.errorCode, first.message ?? ''];
  } catch {
    // not JSON: keep the text
  }
  return { errorCode, message };
}

/** An error answer of the Salesforce API ([{"message", "errorCode"}]). */
export class SalesforceApiError extends SyncError {
  constructor(
    message: string,
    /** Salesforce's own code (MALFORMED_QUERY, REQUEST_LIMIT_EXCEEDED, ...). */
    readonly errorCode: string,
    readonly status: number,
    /** Whether trying again later can succeed (limits, 5xx, dropped connections; an expired query locator always can). */
    retryable: boolean,
    code: ErrorCode = apiErrorCode(errorCode, status, retryable),
  ) {
    super(message, { code, retryable: retryable || EXPIRED_LOCATORS.has(errorCode) });
    this.name = 'SalesforceApiError';
  }
}

export interface ApiUsage {
  used: number;
  max: number;
}

/** What a client asks before each request and tells after each response (budget.ts's ApiBudget). */
export interface RequestBudget {
  beforeRequest(client: SalesforceClient, path: string): Promise<void>;
  afterResponse(method: string, path: string, response: Response): void;
  addResultBytes(n: number): void;
}

export interface ClientOptions {
  /** Attempts for limits, 5xx and dropped connections before giving up. */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt. */
  backoffMs?: number;
  fetch?: typeof fetch;
  /** Aborts requests in flight and backoff waits (an activity's cancellation). */
  signal?: AbortSignal;
  /** Told why the client waits before trying again (shown in heartbeats while it retries). */
  onRetry?: (reason: string) => void;
  /** One sync's budget: asked before each request, told of each response (see budget.ts). */
  budget?: RequestBudget;
  /** Where retries are logged (at warn), beside `onRetry`. */
  log?: Logger;
  /** GETs go out together as Composite requests (see `batching`). */
  batch?: CompositeBatch;
}

/** What clients of one org share: the session and the usage last reported. */
interface SessionState {
  session?: Promise<Session>;
  usage?: ApiUsage;
  /** Answers kept for the steps of one sync run (see `remember`), oldest first. */
  kept?: Map<string, unknown>;
  /** Answers that stay good for a while (see `recent`), with when they were taken. */
  recent?: Map<string, { at: number; value: Promise<unknown> }>;
}

/**
 * Answers kept per org, oldest dropped first: the describes of the runs in flight and the last
 * describe of each object (a prepare's starting point: see describe.ts), trimmed to a few
 * kilobytes each, for orgs of several hundred objects.
 */
const KEPT_ANSWERS = 2_000;

/**
 * The REST API of one org: logs in lazily, re-authenticates transparently when the session
 * expires (401 INVALID_SESSION_ID), backs off on REQUEST_LIMIT_EXCEEDED, 5xx and broken
 * connections, and tracks API usage from Sforce-Limit-Info. Error messages never carry a secret.
 */
export class SalesforceClient {
  private readonly secrets: string[];

  constructor(
    readonly settings: SalesforceSettings,
    private readonly options: ClientOptions = {},
    private readonly state: SessionState = {},
  ) {
    this.secrets = secretsOf(settings.auth);
  }

  /**
   * The same org and session, with every request and wait abortable by `signal`: a cancelled
   * extraction stops at once, even while Salesforce is slow to answer a page.
   */
  withSignal(signal: AbortSignal, onRetry?: (reason: string) => void): SalesforceClient {
    return new SalesforceClient(this.settings, { ...this.options, signal, onRetry: onRetry ?? this.options.onRetry }, this.state);
  }

  /** The same org and session, with retries logged to `log`. */
  withLog(log: Logger): SalesforceClient {
    return new SalesforceClient(this.settings, { ...this.options, log }, this.state);
  }

  /** The same org and session, with requests counted by and held for `budget`. */
  withBudget(budget: RequestBudget): SalesforceClient {
    return new SalesforceClient(this.settings, { ...this.options, budget }, this.state);
  }

  /**
   * The same org and session, with GETs made at the same moment sent together as one Composite
   * request (up to 25 subrequests, 5 of them queries), which Salesforce counts as one API call:
   * a prepare's delete-log read and its COUNT()s cost one call instead of three. Each GET still
   * answers, or fails, as it would alone.
   */
  batching(): SalesforceClient {
    if (this.options.batch) return this;
    const plain = new SalesforceClient(this.settings, { ...this.options, batch: undefined }, this.state);
    return new SalesforceClient(this.settings, { ...this.options, batch: new CompositeBatch(plain) }, this.state);
  }

  /**
   * An answer kept under `key` for the clients of this org, or `make`'s (then kept): the steps of
   * one sync run share what its first step asked (an object's describe), where each used to ask again.
   */
  async remember<T>(key: string, make: () => Promise<T>): Promise<T> {
    const kept = (this.state.kept ??= new Map());
    if (kept.has(key)) return kept.get(key) as T;
    const value = await make();
    this.keep(key, value);
    return value;
  }

  /**
   * `make`'s answer, shared by the clients of this org for `maxAgeMs` after it was asked (the org's
   * limits: every activity reads them before its first request, and 200 objects' activities would
   * otherwise read them 400 times a sync). A failed answer is not kept.
   */
  recent<T>(key: string, maxAgeMs: number, make: () => Promise<T>): Promise<T> {
    const recent = (this.state.recent ??= new Map());
    const kept = recent.get(key);
    if (kept && Date.now() - kept.at < maxAgeMs) return kept.value as Promise<T>;
    const value = make();
    recent.set(key, { at: Date.now(), value });
    value.catch(() => recent.delete(key));
    return value;
  }

  /** What is kept under `key`, if anything. */
  kept<T>(key: string): T | undefined {
    return this.state.kept?.get(key) as T | undefined;
  }

  /** Keeps `value` under `key` (replacing what was kept). */
  keep(key: string, value: unknown): void {
    const kept = (this.state.kept ??= new Map());
    kept.delete(key);
    kept.set(key, value);
    if (kept.size > KEPT_ANSWERS) kept.delete(kept.keys().next().value!);
  }

  /** The budget requests are counted by (the Bulk reader adds the result bytes it downloads). */
  get budget(): RequestBudget | undefined {
    return this.options.budget;
  }

  get usage(): ApiUsage | undefined {
    return this.state.usage;
  }

  /** Waits `ms`, or less if the client's signal aborts (then throws its reason). */
  async wait(ms: number): Promise<void> {
    const signal = this.options.signal;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get apiVersion(): string {
    return this.settings.apiVersion;
  }

  /** Removes every known secret from a text (errors may echo what was sent). */
  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  async login(force = false): Promise<Session> {
    if (force || !this.state.session) {
      this.state.session = authenticate(this.settings).catch((error: Error) => {
        this.state.session = undefined;
        error.message = this.scrub(error.message);
        throw error;
      });
    }
    return this.state.session;
  }

  /** GET a path under /services/data/vXX.X (or an absolute /services/... path) as JSON. */
  async get<T>(path: string, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.request('GET', path, headers);
    return (await response.json()) as T;
  }

  async request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
    if (this.options.batch && method === 'GET' && !path.startsWith('/services/')) return this.options.batch.get(path, headers);
    const maxAttempts = this.options.maxAttempts ?? 6;
    const fetchImpl = this.options.fetch ?? fetch;
    const { signal } = this.options;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      await this.options.budget?.beforeRequest(this, path);
      const session = await this.login();
      const url = `${session.instanceUrl}${path.startsWith('/services/') ? path : `/services/data/v${this.apiVersion}${path}`}`;
      let response: Response;
      try {
        response = await fetchImpl(url, {
          method,
          body,
          headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json', ...headers },
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(120_000)]) : AbortSignal.timeout(120_000),
        });
      } catch (error) {
        // Cancelled, not failed: no retry.
        signal?.throwIfAborted();
        const why = connectionFailure(error, new URL(url).host);
        // A host name that does not resolve will not start to: no retry.
        if (networkCode(error)?.code === 'ENOTFOUND')
          throw new SalesforceApiError(`Salesforce: ${why}: check SOURCES__SALESFORCE__DOMAIN and the instance URL.`, 'HOST_NOT_FOUND', 0, false);
        if (attempt >= maxAttempts) throw new SalesforceApiError(`Salesforce did not answer ${method} ${path}: ${why}`, 'CONNECTION', 0, true);
        this.retrying(`Salesforce did not answer ${method} ${path.split('?')[0]} (${why}); attempt ${attempt + 1} of ${maxAttempts} follows`);
        await this.backoff(attempt);
        continue;
      }
      this.readUsage(response);
      this.options.budget?.afterResponse(method, path, response);
      if (response.ok) return response;
      const text = await response.text();
      const { errorCode } = parseApiError(response.status, text);
      if (response.status === 401 && errorCode === 'INVALID_SESSION_ID' && !reauthenticated && this.settings.auth.kind !== 'InstanceAuth') {
        reauthenticated = true;
        this.options.log?.info('The Salesforce session expired: logging in again');
        await this.login(true);
        attempt--;
        continue;
      }
      const retryable = errorCode === 'REQUEST_LIMIT_EXCEEDED' || response.status >= 500 || errorCode === 'SERVER_UNAVAILABLE';
      if (retryable && attempt < maxAttempts) {
        this.retrying(`Salesforce answered ${method} ${path.split('?')[0]} with ${response.status} ${errorCode}; attempt ${attempt + 1} of ${maxAttempts} follows`);
        await this.backoff(attempt, errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 4 : 1);
        continue;
      }
      throw this.apiError(method, path, response.status, text);
    }
  }

  /** The error of an answer Salesforce gave with `status` and body `text` (scrubbed, with what to do where known). */
  apiError(method: string, path: string, status: number, text: string): SalesforceApiError {
    const { errorCode, message } = parseApiError(status, text);
    const retryable = errorCode === 'REQUEST_LIMIT_EXCEEDED' || status >= 500 || errorCode === 'SERVER_UNAVAILABLE';
    // Objects Salesforce lets be read only by some Ids (ContentDocumentLink): no sync of the whole object can work.
    const needsFilter = errorCode === 'MALFORMED_QUERY' && /Implementation restriction: .*requires a filter/i.test(message);
    const hint =
      errorCode === 'INVALID_SESSION_ID' && this.settings.auth.kind === 'InstanceAuth'
        ? ' The session id given in SOURCES__SALESFORCE__CREDENTIALS__SESSION_ID has expired; provide a new one or use a method that can log in again.'
        : needsFilter
          ? " The object can only be queried with a filter on the fields Salesforce names, so a sync cannot read it whole: remove it from the sync's objects."
          : '';
    return new SalesforceApiError(
      this.scrub(`Salesforce answered ${method} ${path.split('?')[0]} with ${status} ${errorCode}: ${message.trim()}${hint}`),
      errorCode,
      status,
      retryable,
      needsFilter ? ERROR_CODES.OBJECT_NEEDS_FILTER : undefined,
    );
  }

  /** Tells why the client waits before trying again (paths without their query, and scrubbed like errors). */
  private retrying(text: string): void {
    const reason = this.scrub(text);
    this.options.log?.warn(reason);
    this.options.onRetry?.(reason);
  }

  private readUsage(response: Response): void {
    const m = /api-usage=(\d+)\/(\d+)/.exec(response.headers.get('sforce-limit-info') ?? '');
    if (m) this.state.usage = { used: Number(m[1]), max: Number(m[2]) };
  }

  private async backoff(attempt: number, factor = 1): Promise<void> {
    const base = this.options.backoffMs ?? 500;
    await this.wait(Math.min(60_000, base * factor * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2));
  }
}

/** Subrequests of one Composite request, and of them queries (Salesforce's limits). */
export const COMPOSITE_LIMITS = { subrequests: 25, queries: 5 };

const isQueryPath = (path: string) => /^\/query(All)?[/?]/.test(path);

interface PendingGet {
  path: string;
  headers: Record<string, string>;
  resolve: (response: Response) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the GETs made in one turn of the event loop and sends them as Composite requests
 * through `client` (which counts, retries and re-authenticates the Composite request as any
 * other). A subrequest's error answer fails only its own GET, with the error it would have had alone.
 */
class CompositeBatch {
  private pending: PendingGet[] = [];

  constructor(private readonly client: SalesforceClient) {}

  get(path: string, headers: Record<string, string>): Promise<Response> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ path, headers, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const all = this.pending.splice(0);
    const groups: PendingGet[][] = [];
    let group: PendingGet[] = [];
    for (const p of all) {
      const queries = group.filter((g) => isQueryPath(g.path)).length + (isQueryPath(p.path) ? 1 : 0);
      if (group.length >= COMPOSITE_LIMITS.subrequests || queries > COMPOSITE_LIMITS.queries) {
        groups.push(group);
        group = [];
      }
      group.push(p);
    }
    if (group.length) groups.push(group);
    for (const g of groups) void this.send(g);
  }

  private async send(group: PendingGet[]): Promise<void> {
    const version = this.client.apiVersion;
    try {
      const response = await this.client.request(
        'POST',
        '/composite',
        { 'content-type': 'application/json' },
        JSON.stringify({
          allOrNone: false,
          compositeRequest: group.map((p, i) => ({
            method: 'GET',
            url: `/services/data/v${version}${p.path}`,
            referenceId: `r${i}`,
            ...(Object.keys(p.headers).length ? { httpHeaders: p.headers } : {}),
          })),
        }),
      );
      const { compositeResponse } = (await response.json()) as { compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[] };
      group.forEach((p, i) => {
        const answer = compositeResponse.find((r) => r.referenceId === `r${i}`);
        if (!answer) return p.reject(new SalesforceApiError(`Salesforce's Composite answer has no response for GET ${p.path.split('?')[0]}`, 'COMPOSITE_INCOMPLETE', 500, true));
        const text = JSON.stringify(answer.body);
        if (answer.httpStatusCode >= 200 && answer.httpStatusCode < 300)
          p.resolve(new Response(text, { status: answer.httpStatusCode, headers: { 'content-type': 'application/json' } }));
        else p.reject(this.client.apiError('GET', p.path, answer.httpStatusCode, text));
      });
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }
}
