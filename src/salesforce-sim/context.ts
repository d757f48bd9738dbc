import type http from 'node:http';
import type { SimOrg } from './org';
import type { PageCache } from './page-cache';
import type { BulkJob, Cursor, FaultRule, Hold, HoldRule, HoldState, LimitsUpdate, SimConfig, SimLimitName, SimStats, SimUsage, SimUser } from './types';

/**
 * What the protocol handlers (login, REST, Bulk 2.0, control API) use of the simulator: its org,
 * configuration and state, and a few helpers. SalesforceSimulator (server.ts) is one.
 */
export interface SimContext {
  readonly org: SimOrg;
  readonly config: SimConfig;
  readonly users: SimUser[];
  readonly orgId: string;
  readonly clients: { clientId: string; clientSecret: string }[];
  sessionTtlMs: number;
  readonly instanceUrl: string;
  readonly identityUrl: string;
  readonly sessions: Map<string, { expiresAt: number; user: string }>;
  readonly refreshTokens: Map<string, string>;
  readonly cursors: Map<string, Cursor>;
  readonly jobs: Map<string, BulkJob>;
  readonly counters: SimStats;
  readonly faults: FaultRule[];
  readonly holds: HoldState[];
  resultsInFlight: number;
  /** Time a Bulk query job waits in the queue before it runs (SimConfig.bulkQueueMs). */
  bulkQueueMs: number;
  /** Bulk results pages rendered once and served from disk (benchmarks; see page-cache.ts). */
  pageCache?: PageCache;
  setPageCache(on: boolean): void;
  bulkJobsCreated: number;
  resultBytesServed: number;
  readonly usage: SimUsage;
  json(res: http.ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
  body(req: http.IncomingMessage): Promise<string>;
  newSession(user: string): string;
  limitInfo(): string;
  limits(): Record<SimLimitName, { Max: number; Remaining: number }>;
  setLimits(update: LimitsUpdate): void;
  stats(): SimStats;
  resetStats(): void;
  setResultLatency(ms: number): void;
  setBulkTimeoutRows(rows: number | undefined): void;
  expireSessions(): void;
  addFault(rule: FaultRule): void;
  hold(rule: HoldRule): Hold;
}
