/**
 * The Salesforce API budget: how much of the org's daily limits a sync may use, and what it used.
 * An org shares its limits with every other integration, so a sync stops taking from them at a
 * configured share (SOURCES__SALESFORCE__API_BUDGET_PERCENT) and then waits or stops
 * (SOURCES__SALESFORCE__API_BUDGET_ACTION). Usage comes from `GET /limits` (all limits) and from
 * each response's `Sforce-Limit-Info` header (API requests), plus what this sync did since the
 * last reading (Bulk jobs created, result bytes downloaded), which the org counts too.
 */
import { ERROR_CODES } from '../errors';
import { SalesforceApiError, type RequestBudget, type SalesforceClient } from './client';
import { BUDGET_ENV, type BudgetSettings } from './settings';
import { USAGE_SUMMARY_KEYS as USAGE_KEYS } from '../table-contract';

export { BUDGET_ENV, type BudgetSettings };

/** The daily limits a sync spends, by their name in `GET /limits`; all are rolling 24-hour limits. */
export const DAILY_LIMITS = {
  DailyApiRequests: { unit: 'requests', bulkOnly: false },
  DailyBulkV2QueryJobs: { unit: 'jobs', bulkOnly: true },
  DailyBulkV2QueryFileStorageMB: { unit: 'MB', bulkOnly: true },
} as const;
export type DailyLimitName = keyof typeof DAILY_LIMITS;
const LIMIT_NAMES = Object.keys(DAILY_LIMITS) as DailyLimitName[];

export const DEFAULT_BUDGET: BudgetSettings = { share: 0.8, action: 'wait', checkMs: 300_000 };

/** What one sync of one object spent; summed over its activity attempts, recorded in its snapshot. */
export interface UsageCounts {
  apiCalls: number;
  bulkJobs: number;
  resultBytes: number;
}

export const NO_USAGE: UsageCounts = { apiCalls: 0, bulkJobs: 0, resultBytes: 0 };

/** Snapshot summary keys of the counts. */
export const USAGE_SUMMARY_KEYS: Record<keyof UsageCounts, string> = USAGE_KEYS;

export function usageSummary(u: UsageCounts): Record<string, string> {
  return Object.fromEntries((Object.keys(USAGE_SUMMARY_KEYS) as (keyof UsageCounts)[]).map((k) => [USAGE_SUMMARY_KEYS[k], String(u[k])]));
}

/** A limit's usage: `used` of `max` (in the limit's unit). */
export interface LimitUsage {
  name: DailyLimitName;
  used: number;
  max: number;
}

/** A limit over budget, and the budget it is over. */
export interface OverBudget extends LimitUsage {
  share: number;
}

/** The daily limits of a `GET /limits` answer (those it has: an org without Bulk lacks the Bulk ones). */
export function parseLimits(json: unknown): Partial<Record<DailyLimitName, LimitUsage>> {
  const out: Partial<Record<DailyLimitName, LimitUsage>> = {};
  const all = (json ?? {}) as Record<string, { Max?: unknown; Remaining?: unknown } | undefined>;
  for (const name of LIMIT_NAMES) {
    const max = Number(all[name]?.Max);
    const remaining = Number(all[name]?.Remaining);
    if (Number.isFinite(max) && Number.isFinite(remaining) && max > 0) out[name] = { name, used: max - remaining, max };
  }
  return out;
}

/**
 * The first limit whose usage has reached the budget (`share` of its max), or undefined. Reading
 * through REST only, the Bulk limits do not matter.
 */
export function overBudget(usage: Partial<Record<DailyLimitName, LimitUsage>>, share: number, opts: { bulk: boolean }): OverBudget | undefined {
  for (const name of LIMIT_NAMES) {
    const u = usage[name];
    if (!u || (DAILY_LIMITS[name].bulkOnly && !opts.bulk)) continue;
    if (u.used >= share * u.max) return { ...u, share };
  }
  return undefined;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (share: number) => `${Math.round(share * 1000) / 10} %`;

function describeUsage(o: OverBudget): string {
  const unit = DAILY_LIMITS[o.name].unit;
  return `${o.name} ${count(o.used)} of ${count(o.max)}${unit === 'requests' ? '' : ` ${unit}`} used (budget ${percent(o.share)})`;
}

/** What the heartbeat and the progress query say while a sync waits for its budget. */
export function waitingReason(o: OverBudget, nextCheck: Date): string {
  return `waiting for the Salesforce API budget: ${describeUsage(o)}, a rolling 24-hour limit; checking again at ${nextCheck.toISOString().slice(11, 19)}Z`;
}

/** Over budget with SOURCES__SALESFORCE__API_BUDGET_ACTION=stop: retrying would only spend more, so it is final. */
export class ApiBudgetExceededError extends SalesforceApiError {
  constructor(readonly over: OverBudget) {
    super(
      `The Salesforce API budget is used up: ${describeUsage(over)}, a rolling 24-hour limit. ` +
        `The sync stopped before reading (${BUDGET_ENV.action}=stop): sync again once the org's usage has fallen, raise ${BUDGET_ENV.percent}, ` +
        `or set ${BUDGET_ENV.action}=wait to wait for it.`,
      'API_BUDGET_EXCEEDED',
      0,
      false,
      ERROR_CODES.API_BUDGET_EXCEEDED,
    );
    this.name = 'ApiBudgetExceeded';
  }
}

const MB = 1024 * 1024;

/**
 * One object's sync against the org's limits: counts what its requests spend (the client tells it
 * of each response; the Bulk reader of each result page's bytes) and, before each request, holds
 * it while the org is over budget: waiting (re-reading `/limits` every `checkMs`, abortable through
 * the client's signal) or failing with ApiBudgetExceededError.
 */
export class ApiBudget implements RequestBudget {
  private readonly counts: UsageCounts;
  /** The last `/limits` reading, and the counts at that moment (what was spent since adds to it). */
  private reading?: { limits: Partial<Record<DailyLimitName, LimitUsage>>; at: UsageCounts };
  /** The latest Sforce-Limit-Info (API requests, as the org counts them). */
  private header?: LimitUsage;
  private waiting?: string;
  private checking?: Promise<void>;

  constructor(
    /** Undefined: requests are only counted, never held. */
    private readonly settings?: BudgetSettings,
    private readonly opts: {
      /** Bulk limits count (false when reading through REST only). */
      bulk?: boolean;
      /** What earlier attempts of the same sync spent. */
      spent?: UsageCounts;
      /** Told the waiting reason while waiting, undefined once it goes on. */
      onWaiting?: (reason: string | undefined) => void;
      /** Told the counts after every change. */
      onUsage?: (counts: UsageCounts) => void;
      /** How old a reading of the limits another budget of this worker took may be to serve this one's first check (default 30 s). */
      sharedReadingMs?: number;
    } = {},
  ) {
    this.counts = { ...NO_USAGE, ...opts.spent };
  }

  /** What the sync spent so far (earlier attempts included). */
  get usage(): UsageCounts {
    return { ...this.counts };
  }

  /** The org's usage as far as known: the last reading plus what this sync spent since; the header for API requests. */
  estimate(): Partial<Record<DailyLimitName, LimitUsage>> {
    const out: Partial<Record<DailyLimitName, LimitUsage>> = {};
    const r = this.reading;
    if (r) {
      const since = {
        DailyApiRequests: this.counts.apiCalls - r.at.apiCalls,
        DailyBulkV2QueryJobs: this.counts.bulkJobs - r.at.bulkJobs,
        DailyBulkV2QueryFileStorageMB: (this.counts.resultBytes - r.at.resultBytes) / MB,
      };
      for (const name of LIMIT_NAMES) {
        const u = r.limits[name];
        if (u) out[name] = { ...u, used: u.used + since[name] };
      }
    }
    if (this.header) out.DailyApiRequests = this.header;
    return out;
  }

  over(): OverBudget | undefined {
    if (!this.settings) return undefined;
    return overBudget(this.estimate(), this.settings.share, { bulk: this.opts.bulk ?? true });
  }

  /** Called by the client before it sends a request: returns at once unless the org is over budget. */
  async beforeRequest(client: SalesforceClient, path: string): Promise<void> {
    // Reading the limits is how a budget check ends: it must not wait for itself.
    if (isLimitsPath(path) || !this.over()) return;
    await this.check(client);
  }

  /** Reads `/limits` and returns once the org is under budget (or throws, with `stop`). */
  async check(client: SalesforceClient): Promise<void> {
    if (!this.settings) return;
    // Requests in parallel (a prefetched page) share one check.
    this.checking ??= this.enforce(client).finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async enforce(client: SalesforceClient): Promise<void> {
    // A reading shared with the worker's other activities serves only to go on: one that says
    // "over budget" is taken again before the sync waits or stops, as is every reading after a wait.
    for (let fresh = false; ; fresh = true) {
      await this.read(client, fresh);
      const over = this.over();
      if (!over) {
        if (this.waiting !== undefined) {
          this.waiting = undefined;
          this.opts.onWaiting?.(undefined);
        }
        return;
      }
      if (!fresh) continue;
      const { action, checkMs } = this.settings!;
      if (action === 'stop') throw new ApiBudgetExceededError(over);
      this.waiting = waitingReason(over, new Date(Date.now() + checkMs));
      this.opts.onWaiting?.(this.waiting);
      await client.wait(checkMs);
    }
  }

  private async read(client: SalesforceClient, fresh: boolean): Promise<void> {
    try {
      // A reading another activity of this worker took moments ago, unless `fresh` (API requests
      // stay exact either way: every answer's header updates them).
      const limits = parseLimits(await client.recent('limits', fresh ? 0 : (this.opts.sharedReadingMs ?? LIMITS_SHARED_MS), () => client.get('/limits')));
      this.reading = { limits, at: this.usage };
      // The reading is newer than any header seen before it (and carries the same figure).
      this.header = undefined;
    } catch (error) {
      // A user without "View Setup and Configuration" may not read /limits: the header still counts requests.
      if (error instanceof SalesforceApiError && (error.status === 403 || error.status === 404)) return;
      throw error;
    }
  }

  /** Called by the client for every response: a request Salesforce answered counts, as do Bulk jobs it created. */
  afterResponse(method: string, path: string, response: Response): void {
    const m = /api-usage=(\d+)\/(\d+)/.exec(response.headers.get('sforce-limit-info') ?? '');
    if (m) this.header = { name: 'DailyApiRequests', used: Number(m[1]), max: Number(m[2]) };
    // Salesforce counts the requests it served, not those refused for the session or failing on its side.
    if (response.status === 401 || response.status >= 500) return;
    this.counts.apiCalls++;
    if (method === 'POST' && /^\/jobs\/query\/?$/.test(path.split('?')[0]!) && response.ok) this.counts.bulkJobs++;
    this.opts.onUsage?.(this.usage);
  }

  /** Bulk result bytes downloaded (they count against DailyBulkV2QueryFileStorageMB). */
  addResultBytes(n: number): void {
    this.counts.resultBytes += n;
    this.opts.onUsage?.(this.usage);
  }
}

/** How long one reading of the org's limits serves every activity of a worker. */
const LIMITS_SHARED_MS = 30_000;

const isLimitsPath = (path: string) => /(^|\/)limits\/?(\?|$)/.test(path);
