import type { GeneratedOrgSpec, SimField } from './objects';

/* The simulator's configuration, what it counts, and the state its protocols share. */
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
  /**
   * Objects generated beside the fixed ones (an org of hundreds of objects): a count, or the spec
   * (field counts, small and large row counts; see GeneratedOrgSpec). rowCounts overrides a generated object's rows.
   */
  generatedObjects?: number | GeneratedOrgSpec;
  /** false: the org has no Bulk API (jobs are refused as Salesforce does). */
  bulkEnabled?: boolean;
  dailyApiLimit?: number;
  /** Rows per PK chunk of a Bulk job: a larger unordered result comes back chunk by chunk. Default 100,000. */
  bulkChunkRows?: number;
  /** Records per page of parallel results (`resultPages`). Default 10,000. */
  resultPageRecords?: number;
  /** A Bulk job whose result has more rows than this fails with QUERY_TIMEOUT (as unchunked large queries do). */
  bulkTimeoutRows?: number;
  /**
   * Time a Bulk query job waits in Salesforce's queue before it runs (its state stays UploadComplete,
   * then InProgress): what makes Bulk slow for small reads. Default SIM_BULK_QUEUE_MS from the
   * environment, else DEFAULT_BULK_QUEUE_MS; the test suite sets 0.
   */
  bulkQueueMs?: number;
  /** Bulk results pages rendered once and served from disk after that (benchmarks; see page-cache.ts). Default false. */
  pageCache?: boolean;
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

/**
 * Seconds a small Bulk query job spends before its results can be read. Salesforce publishes no
 * figure: Bulk queries are queued and processed asynchronously ("designed to handle queries that
 * return large amounts of data (10,000 records or more)"), and clients poll for completion. 5 s is
 * a conservative floor of what small jobs take on real orgs, where a REST query answers in one
 * round trip.
 */
export const DEFAULT_BULK_QUEUE_MS = 5_000;

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
  /** apiRequests by what they asked for: describe, count, query, bulk-create, bulk-poll, get-deleted, … */
  apiRequestsByKind: Record<string, number>;
}

export const SIM_DEFAULTS = {
  user: { username: 'integration@sim.example.com', password: 'sim-Passw0rd', securityToken: 'SIMTOKEN0123456789' },
  orgId: '00D5g000004SIMAAAA',
  client: { clientId: 'sim-consumer-key', clientSecret: 'sim-consumer-secret' },
};

/** The API versions the org serves: 31.0 (the oldest Salesforce still serves since Summer '25) to 62.0. */
export const API_VERSIONS = Array.from({ length: 32 }, (_, i) => `${31 + i}.0`);

/** The User Id of every login (login results, token responses, identity URLs, jobs). */
export const SIM_USER_ID = '005000000000001AAA';

export type FaultKind = 'expire-session' | 'request-limit' | 'unavailable' | 'drop-connection' | 'slow' | 'invalid-locator';
export interface FaultRule {
  kind: FaultKind;
  /** Applies to requests whose path contains this text. */
  path: string;
  /** Text the request's query string must contain too (e.g. a read's ORDER BY, not a probe's LIMIT 1). */
  search?: string;
  count: number;
  delayMs?: number;
}

/** Which requests a hold stops: path text, optionally the object they read, after `skip` others pass. */
export interface HoldRule {
  path: string;
  object?: string;
  /** Text the request's query string must contain too (e.g. one result page's locator). */
  search?: string;
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

export interface HoldState extends Hold {
  rule: HoldRule;
  skip: number;
  taken: boolean;
  released: Promise<void>;
  state: { arrived: boolean; dropped: boolean; released: boolean };
  markArrived(): void;
  markDropped(): void;
}

export interface BulkJob {
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
  /** When it was created (ms): its time in the queue runs from here. */
  createdAt: number;
  apiVersion: string;
  errorMessage?: string;
}

export interface Cursor {
  numbers: number[];
  fields: SimField[];
  objectName: string;
  pos: number;
  pageSize: number;
  all: boolean;
}
