import type { LoadTableResult, Namespace, RestCatalog } from '../iceberg/catalog';
import { readRows } from '../iceberg/reader';
import { currentSchema, currentSnapshot, defaultSortOrder, defaultSpec } from '../iceberg/spec';
import { describeSpec } from '../iceberg/spec/partition';
import { loadTable } from '../iceberg/table';
import { lastRunSummary } from '../iceberg/snapshot-producer';
import type { ObjectStore } from '../storage/object-store';
import { lastReport, type MaintenanceReport } from '../maintenance';
import { CURSOR_PROPERTY, LAST_MAINTENANCE_PROPERTY, COUNT_PROPERTY, RECONCILED_PROPERTY, SYNC_RUN_KEYS, USAGE_SUMMARY_KEYS } from '../table-contract';

/** What `npm run tables` shows for one table (the original check_tables). */
export interface TableReport {
  table: string;
  rows: number;
  /** Snapshots committed so far (the sequence number: some catalogs keep only the current snapshot). */
  snapshots: number;
  lastSync?: string;
  cursor?: string;
  /** What the last sync spent of the Salesforce org's daily limits (its snapshot summary's `salesforce.*` counts). */
  salesforceUsage?: { apiCalls: number; bulkJobs: number; resultBytes: number };
  /** Rows the last sync removed because Salesforce no longer has them (a reconciling sync). */
  reconciledDeletes?: number;
  /** Salesforce's count of what the table should hold, taken by the last sync (its count check); `rows` is the table's. */
  salesforceCount?: number;
  dataFiles: number;
  deleteFiles: number;
  bytes: number;
  schema: { id: number; name: string; type: string; required: boolean }[];
  /** How new files are partitioned (`month(created_date)`, or `unpartitioned`), and how many specs the table has had. */
  partitioning: { current: string; specs: number };
  /** How rows are sorted within new files (`account_id asc`), when the table has a sort order. */
  sortOrder?: string;
  /** What the table's last maintenance did (maintainTable keeps its report on the table). */
  maintenance?: MaintenanceReport;
  sample?: Record<string, unknown>[];
}

export async function inspectTables(opts: {
  catalog: RestCatalog;
  namespace: Namespace;
  storeFor: (loaded: LoadTableResult) => ObjectStore;
  sample?: number;
  only?: string[];
}): Promise<TableReport[]> {
  const names = (await opts.catalog.listTables(opts.namespace)).filter((t) => !opts.only?.length || opts.only.includes(t)).sort();
  const reports: TableReport[] = [];
  for (const name of names) {
    const table = await loadTable({ catalog: opts.catalog, namespace: opts.namespace, name, storeFor: opts.storeFor });
    const snapshot = currentSnapshot(table.metadata);
    const schema = currentSchema(table.metadata);
    const summary: Record<string, string> = snapshot?.summary ?? {};
    const n = (key: string) => Number(summary[key] ?? 0);
    // What the last sync recorded, even when another engine committed after it.
    const synced: Record<string, string> = lastRunSummary(table, SYNC_RUN_KEYS) ?? {};
    const s = (key: string) => Number(synced[key] ?? 0);
    const report: TableReport = {
      table: `${opts.namespace.join('.')}.${name}`,
      // Rows in data files less the rows position deletes remove.
      rows: n('total-records') - n('total-position-deletes'),
      snapshots: Number(table.metadata['last-sequence-number'] ?? 0n),
      lastSync: snapshot ? new Date(Number(snapshot['timestamp-ms'])).toISOString() : undefined,
      cursor: synced[CURSOR_PROPERTY],
      salesforceUsage:
        synced[USAGE_SUMMARY_KEYS.apiCalls] === undefined
          ? undefined
          : { apiCalls: s(USAGE_SUMMARY_KEYS.apiCalls), bulkJobs: s(USAGE_SUMMARY_KEYS.bulkJobs), resultBytes: s(USAGE_SUMMARY_KEYS.resultBytes) },
      reconciledDeletes: synced[RECONCILED_PROPERTY] === undefined ? undefined : s(RECONCILED_PROPERTY),
      salesforceCount: synced[COUNT_PROPERTY] === undefined ? undefined : s(COUNT_PROPERTY),
      dataFiles: n('total-data-files'),
      deleteFiles: n('total-delete-files'),
      bytes: n('total-files-size'),
      schema: schema.fields.map((f) => ({ id: f.id, name: f.name, type: f.type, required: f.required })),
      partitioning: { current: describeSpec(defaultSpec(table.metadata), schema), specs: table.metadata['partition-specs'].length },
      sortOrder: sortOrderText(table.metadata, schema),
      maintenance: lastReport(table.metadata.properties, LAST_MAINTENANCE_PROPERTY),
    };
    if (opts.sample && snapshot) report.sample = (await readRows(table)).slice(0, opts.sample);
    reports.push(report);
  }
  return reports;
}

function sortOrderText(metadata: Parameters<typeof defaultSortOrder>[0], schema: ReturnType<typeof currentSchema>): string | undefined {
  const order = defaultSortOrder(metadata);
  if (!order) return undefined;
  return order.fields
    .map((f) => {
      const column = schema.fields.find((c) => c.id === f['source-id'])?.name ?? `#${f['source-id']}`;
      return `${f.transform === 'identity' ? column : `${f.transform}(${column})`} ${f.direction} ${f['null-order']}`;
    })
    .join(', ');
}
