/** Settings of how a sync extracts and writes an object (src/sync/). */
import { z } from 'zod';
import { booleanSetting, integerSetting, secondsSetting, settingsArea } from '../config/define';
import { DEFAULT_NAMESPACE, NAMESPACE_PATTERN, NAMESPACE_RULE } from './objects';

/** One Iceberg namespace, levels separated by dots (`crm.salesforce`): the workflow input's rule. */
export const namespaceSchema = z.string().regex(NAMESPACE_PATTERN, { message: `must be a namespace: ${NAMESPACE_RULE} (crm.salesforce)` });

export const syncArea = settingsArea('sync', {
  SYNC_LAG_MS: { schema: integerSetting(0), description: 'the incremental window ends this many milliseconds before now', default: '60000' },
  SYNC_CHECKPOINT_SECONDS: {
    schema: secondsSetting('of at least 0', 0),
    description: 'an extraction records a resume point at most this often (each closes a data file; 0: after every page)',
    default: '60',
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
  SYNC_PARTITION_SLICE_ROWS: {
    schema: integerSetting(0),
    description:
      "rows per partition of an object whose table is partitioned by year, month, day or hour of CreatedDate: an object with at least twice this many rows to read is extracted in CreatedDate ranges, each a Bulk job of its own and a whole number of the table's partitions, so each table partition gets its rows from one extraction (few, large files) instead of a small file from every partition of a Bulk job; 0: never (result-page partitions, SYNC_PARTITION_PAGES)",
    default: '100000',
  },
  SYNC_COUNT_CHECK: {
    schema: z.enum(['warn', 'fail', 'reconcile', 'off'], { message: 'must be warn, fail, reconcile or off' }),
    description:
      "after each commit, Salesforce's COUNT() of what the table should hold (merge: rows created by the window's end; replace: every row) is compared with the table's live rows, both in the object's result and Salesforce's in the snapshot summary (salesforce.count): warn logs a mismatch with both numbers, fail also fails the object (the commit stands), reconcile warns and, when the table holds more rows than Salesforce, has the object's next incremental merge sync compare every Id (a reconciliation) to remove them, off does not count (one COUNT() call per object and sync)",
    default: 'warn',
  },
  SYNC_GET_DELETED: {
    schema: booleanSetting,
    description:
      "an incremental merge sync learns the rows deleted since its last run from Salesforce's delete log (getDeleted: soft and hard deletes, one call per 600,000 Ids); when the log cannot cover the window (the last sync more than 15 days ago, or the log purged since), the sync compares every Id instead (a reconciliation) and says why; false: only rows still in the Recycle Bin (queryAll), hard deletes only by a reconciling sync",
    default: 'true',
  },
  SYNC_RECONCILE_MAX_PERCENT: {
    schema: z
      .string()
      .regex(/^\d+(?:\.\d+)?\s*%?$/, { message: 'must be a percentage from 0 to 100 (10 or 10%)' })
      .transform((v) => Number(v.replace('%', '').trim()))
      .refine((n) => n >= 0 && n <= 100, { message: 'must be a percentage from 0 to 100 (10 or 10%)' }),
    description:
      "a reconciling sync that finds more than this percent of a table's rows gone from Salesforce removes none of them and fails the object with both counts (a lost sharing rule or a changed integration user looks like this); 100 lets it remove any share",
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
  SYNC_NAMESPACE: {
    schema: namespaceSchema,
    description:
      'Iceberg namespace of a sync whose input names none (temporal workflow start, npm run sync, schedules) and of npm run demo; npm run check, tables and maintain look at it',
    default: DEFAULT_NAMESPACE,
  },
});

export type SyncSettings = z.output<typeof syncArea.schema>;
