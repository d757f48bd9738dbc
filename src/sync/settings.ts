import { z } from 'zod';
import { booleanSetting, integerSetting, parseArea, settingsArea } from '../config/define';
import { ERROR_CODES, SyncError } from '../errors';

const seconds = (what: string, min: number) =>
  z
    .string()
    .regex(/^\d+(?:\.\d+)?$/, { message: `must be a number of seconds ${what}` })
    .transform(Number)
    .refine((n) => n >= min, { message: `must be a number of seconds ${what}` });

/** One Iceberg namespace, levels separated by dots (`crm.salesforce`). */
/** The same rule as the workflow input's namespace (workflows/input.ts). */
export const namespaceSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
  message: 'must be a namespace: identifiers (letters, digits and underscores, not starting with a digit) joined by dots (crm.salesforce)',
});

/** What the worker does and how a sync reads and writes. */
export const syncArea = settingsArea('sync', {
  SYNC_LAG_MS: { schema: integerSetting(0), description: 'the incremental window ends this many milliseconds before now', default: '60000' },
  SALESFORCE_READ_API: {
    schema: z.enum(['auto', 'bulk', 'rest'], { message: 'must be auto, bulk or rest' }),
    description: 'auto (Bulk API 2.0, REST where Bulk is refused), bulk or rest',
    default: 'auto',
  },
  SALESFORCE_BULK_PAGES_IN_FLIGHT: {
    schema: integerSetting(1, 16),
    description: 'Bulk result pages downloaded at once (API 62.0 and later; earlier versions read one page ahead); memory grows with it',
    default: '4',
  },
  SALESFORCE_BULK_MIN_SLICE_MINUTES: {
    schema: integerSetting(1),
    description:
      "a Bulk job that Salesforce fails (e.g. QUERY_TIMEOUT) is run again over halves of its time window, down to windows this long; then the sync fails with the job's message",
    default: '60',
  },
  PARQUET_ENCODER_THREADS: {
    schema: integerSetting(0, 16),
    description:
      "threads (worker_threads) that encode and compress Parquet while the activity's thread parses Salesforce pages and builds the next row group; shared by the worker's activities; 0: encode on the activity's thread",
    default: '1',
  },
  SYNC_PARTITION_MIN_PAGES: {
    schema: integerSetting(0),
    description:
      'an object whose Bulk job has at least this many result pages (API 62.0 and later) is extracted in partitions, activities that any worker of the task queue runs; 0: never',
    default: '20',
  },
  SYNC_PARTITION_PAGES: {
    schema: integerSetting(1),
    description: 'Bulk result pages per partition (more when an object would get over 200 partitions)',
    default: '10',
  },
  SYNC_PARTITIONS_IN_FLIGHT: {
    schema: integerSetting(1, 64),
    description: "partitions of one object extracted at once, across all workers (each worker extracts at most WORKER_MAX_PARTITIONS at once); the planning worker's value applies",
    default: '4',
  },
  SYNC_TIME_TYPE: {
    schema: z.enum(['string', 'time'], { message: 'must be string or time' }),
    description:
      'Salesforce time fields as string (HH:MM:SS.sss text, read by every engine) or time (Iceberg time: Spark cannot load such tables); existing columns keep their type',
    default: 'string',
  },
  SYNC_CHECKPOINT_SECONDS: {
    schema: seconds('of at least 0', 0),
    description: 'an extraction records a resume point at most this often (each closes a data file; 0: after every page)',
    default: '60',
  },
  DUMP_TO_DUCKDB: {
    schema: booleanSetting,
    description: 'true: objects land in a local DuckDB file instead of Iceberg (local debugging; no catalog or S3 settings needed)',
    default: 'false',
  },
  DUCKDB_PATH: { schema: z.string(), description: 'the DuckDB file of DUMP_TO_DUCKDB (schema = namespace)', default: 'salesforce_sync.duckdb' },
  SYNC_NAMESPACE: {
    schema: namespaceSchema,
    description:
      'Iceberg namespace of a sync whose input names none (temporal workflow start, npm run sync, schedules) and of npm run demo; npm run check, tables and maintain look at it',
    default: 'salesforce',
  },
  MAINTENANCE_TARGET_FILE_MB: {
    schema: integerSetting(1),
    description: 'table maintenance rewrites data files below 3/4 of this size, and files with position deletes, into files of about this size (MB, compressed)',
    default: '128',
  },
  MAINTENANCE_MAX_MANIFESTS: {
    schema: integerSetting(1),
    description: "table maintenance rewrites the current snapshot's manifests into one or two when it has more than this many",
    default: '8',
  },
  MAINTENANCE_KEEP_SNAPSHOTS: {
    schema: integerSetting(1),
    description: 'snapshot expiry keeps the last this many snapshots of each branch (catalogs that keep history in table metadata)',
    default: '10',
  },
  MAINTENANCE_KEEP_SNAPSHOT_HOURS: { schema: integerSetting(0), description: 'snapshot expiry keeps every snapshot younger than this many hours', default: '120' },
  MAINTENANCE_ORPHAN_HOURS: {
    schema: integerSetting(1),
    description: "orphan removal deletes unreferenced files under a table's location only when they are older than this many hours (an in-flight sync's files are younger)",
    default: '72',
  },
  WORKER_LOG_LEVEL: {
    schema: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { message: 'must be TRACE, DEBUG, INFO, WARN or ERROR' }),
    description: "what npm run worker logs (Temporal's logger): DEBUG adds a line per Salesforce page, WARN only retries, fallbacks and waits",
    default: 'INFO',
  },
  WORKER_MEMORY_LOG_SECONDS: {
    schema: seconds('of at least 0', 0),
    description: 'the worker logs its memory (RSS, V8 heap, buffers, WebAssembly and encoder threads) this often, and its peak at exit; 0: never',
    default: '0',
  },
  WORKER_MAX_ACTIVITIES: { schema: integerSetting(1), description: 'activities a worker runs at once (partitions apart: WORKER_MAX_PARTITIONS)', default: '8' },
  WORKER_MAX_PARTITIONS: {
    schema: integerSetting(1),
    description:
      "partitions (of any object) a worker extracts at once: what sizes a worker's memory during a large sync; more partitions at once spread over more workers (SYNC_PARTITIONS_IN_FLIGHT)",
    default: '1',
  },
  WORKER_PREFLIGHT: {
    schema: booleanSetting,
    description: 'false: npm run worker starts polling without running the checks of npm run check first (npm run worker -- --no-preflight does the same)',
    default: 'true',
  },
  PREFLIGHT_TIMEOUT_SECONDS: { schema: seconds('above 0', 0.001), description: 'each check of npm run check (and of the worker at start) gives up after this long', default: '10' },
  PREFLIGHT_OBJECT: {
    schema: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'must be a Salesforce object name' }),
    description: 'the Salesforce object npm run check describes',
    default: 'Account',
  },
});

/** DUMP_TO_DUCKDB=true: objects land in a local DuckDB file instead of Iceberg (read without the rest of the area). */
export function duckdbMode(env: Record<string, string | undefined>): boolean {
  return /^(true|1|yes)$/i.test(env.DUMP_TO_DUCKDB?.trim() ?? '');
}

export type SyncSettings = z.output<typeof syncArea.schema>;

export function syncSettingsProblems(env: Record<string, string | undefined>): string[] {
  return parseArea(syncArea, env).problems;
}

/** Validated worker/sync settings, defaults applied; throws listing every problem. */
export function parseSyncSettings(env: Record<string, string | undefined>): SyncSettings {
  const parsed = parseArea(syncArea, env);
  if (!parsed.ok)
    throw new SyncError(`Invalid worker/sync settings:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  return parsed.value;
}
