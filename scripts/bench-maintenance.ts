/**
 * `npm run bench -- maintenance [--rows N] [--syncs S] [--change-percent P]`: an Account-shaped
 * table of N rows, then S incremental merges that each update P % of the rows (upserts by Id:
 * one data file, one position delete file, manifests), as hourly syncs leave a table; then the
 * table's maintenance (compaction with deletes applied and manifest rewrite, expiry, orphans).
 * Files, delete files, manifests and a pyiceberg full scan are measured before and after, in one
 * run; the last line is JSON (files_before, files_after, scan_s_before, scan_s_after, ...).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { connectIceberg } from '../src/iceberg/connect';
import { runPaths } from '../src/iceberg/run-paths';
import { commitFiles } from '../src/iceberg/snapshot-producer';
import type { IcebergTable } from '../src/iceberg/table';
import { prepareTable } from '../src/destinations/iceberg';
import { compactTable } from '../src/maintenance/compact';
import { expireSnapshots } from '../src/maintenance/expire';
import { removeOrphans } from '../src/maintenance/orphans';
import { historyInCatalog } from '../src/maintenance';
import { DataFileWriter } from '../src/parquet/writer';
import type { SalesforceField } from '../src/salesforce/describe-types';
import { MAINTENANCE_RUN_PROPERTY, SYNC_RUN_KEYS } from '../src/table-contract';

export interface MaintenanceBenchOptions {
  rows: number;
  syncs: number;
  changePercent: number;
  targetMb: number;
  keep: boolean;
  env: Record<string, string | undefined>;
  fields: SalesforceField[];
  /** Deterministic rows `ids` (their numbers) in the builders' forms, version `v` changes the values. */
  rowsOf: (numbers: Iterable<number>, columns: number, v: number) => Iterable<unknown[]>;
}

/** Live data files, delete files and manifests of the current snapshot. */
async function counts(table: IcebergTable) {
  await table.refresh();
  const manifests = await table.manifests();
  const { data, deletes } = await table.liveEntriesOf(manifests);
  return { files: data.length, deleteFiles: deletes.length, manifests: manifests.length, snapshots: table.snapshots().length };
}

/**
 * Seconds pyiceberg takes to read the whole table (deletes applied) into Arrow, timed inside
 * Python, the faster of two scans (the first pays for cold caches and lazy imports); and the rows.
 */
function pyicebergScan(env: Record<string, string | undefined>, namespace: string, table: string): Promise<{ seconds: number; rows: number }> {
  const python = env.READERS_PYTHON ?? 'python3';
  const code = `
import json, os, sys, time
from pyiceberg.catalog import load_catalog
props = {"type": "rest", "uri": os.environ["ICEBERG_CATALOG_URI"], "s3.endpoint": os.environ.get("S3_ENDPOINT"),
  "s3.access-key-id": os.environ.get("S3_ACCESS_KEY_ID"), "s3.secret-access-key": os.environ.get("S3_SECRET_ACCESS_KEY"),
  "s3.region": os.environ.get("S3_REGION", "us-east-1"), "s3.path-style-access": os.environ.get("S3_PATH_STYLE", "true")}
if os.environ.get("ICEBERG_WAREHOUSE"): props["warehouse"] = os.environ["ICEBERG_WAREHOUSE"]
t = load_catalog("bench", **{k: v for k, v in props.items() if v is not None}).load_table((sys.argv[1], sys.argv[2]))
times = []
for _ in range(2):
    started = time.perf_counter()
    rows = t.scan().to_arrow().num_rows
    times.append(time.perf_counter() - started)
print(json.dumps({"seconds": min(times), "rows": rows}))
`;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', code, namespace, table], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`pyiceberg scan failed: ${err.trim().split('\n').at(-1)}`))));
  });
}

export async function benchMaintenance(opts: MaintenanceBenchOptions): Promise<void> {
  const { catalog, storeFor } = connectIceberg(opts.env);
  const namespace = ['bench'];
  const name = `maintenance_${Date.now().toString(36)}`;
  const { table } = await prepareTable({ catalog, namespace, name, storeFor, fields: opts.fields, naming: 'snake_case', runId: `bench-${name}-full` });
  const fields = table.schema().fields;
  const idColumn = 'id';
  const idOf = (n: number) => `001${n.toString(36).padStart(15, '0')}`;
  const write = async (runId: string, numbers: number[], v: number) => {
    const paths = runPaths(table.location, runId);
    const writer = new DataFileWriter({ fields, store: table.store, location: paths.dataFolder, namePrefix: paths.segment, targetFileBytes: opts.targetMb * 1024 * 1024 });
    await writer.write(opts.rowsOf(numbers, fields.length, v));
    return writer.close();
  };

  const started = performance.now();
  const all = Array.from({ length: opts.rows }, (_, i) => i);
  const fullRun = `bench-${name}-full`;
  await commitFiles({ keys: SYNC_RUN_KEYS, table, runId: fullRun, files: await write(fullRun, all, 0), mode: { kind: 'append' } });
  const changed = Math.max(1, Math.round((opts.rows * opts.changePercent) / 100));
  // A fixed stride over the ids: every sync touches rows in every file, as random changes would.
  const stride = 7919;
  for (let s = 1; s <= opts.syncs; s++) {
    const numbers = Array.from({ length: changed }, (_, k) => (s * 104_729 + k * stride) % opts.rows).sort((a, b) => a - b);
    const unique = [...new Set(numbers)];
    const runId = `bench-${name}-sync-${s}`;
    await commitFiles({
      keys: SYNC_RUN_KEYS,
      table,
      runId,
      files: await write(runId, unique, s),
      mode: { kind: 'merge', keyColumn: idColumn, keys: unique.map(idOf), deleteKeys: [] },
    });
    if (s % 10 === 0 || s === opts.syncs) console.log(`  ${s}/${opts.syncs} incremental merges of ${unique.length} rows committed`);
  }
  const loadedS = (performance.now() - started) / 1000;
  const before = await counts(table);
  const scanBefore = await pyicebergScan(opts.env, namespace.join('.'), name);
  console.log(
    `Before maintenance: ${before.files} data files, ${before.deleteFiles} delete files, ${before.manifests} manifests; pyiceberg scan ${scanBefore.seconds.toFixed(2)} s`,
  );

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const compaction = await compactTable(table, {
    runIdKey: MAINTENANCE_RUN_PROPERTY,
    runId: `bench-${name}-maintain`,
    targetFileBytes: opts.targetMb * 1024 * 1024,
    maxManifests: 8,
  });
  const compactS = (performance.now() - t0) / 1000;
  const history = await historyInCatalog(catalog);
  const expiry = await expireSnapshots(table, { keepLast: 1, keepAgeMs: 0, now: Date.now(), historyInCatalog: history });
  const orphans = await removeOrphans(table, { olderThan: new Date(), historyInCatalog: history });
  const maintainS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const after = await counts(table);
  const scanAfter = await pyicebergScan(opts.env, namespace.join('.'), name);
  console.log(`After maintenance: ${after.files} data files, ${after.deleteFiles} delete files, ${after.manifests} manifests; pyiceberg scan ${scanAfter.seconds.toFixed(2)} s`);
  if (scanAfter.rows !== scanBefore.rows) throw new Error(`pyiceberg read ${scanBefore.rows} rows before maintenance and ${scanAfter.rows} after`);
  if (!opts.keep) await catalog.dropTable(namespace, name, true).catch(() => undefined);
  console.log(
    JSON.stringify({
      bench: 'maintenance',
      catalog: history ? 'nessie' : 'rest',
      rows: opts.rows,
      rows_read: scanAfter.rows,
      syncs: opts.syncs,
      changed_rows_per_sync: changed,
      load_and_syncs_s: Number(loadedS.toFixed(1)),
      files_before: before.files,
      files_after: after.files,
      delete_files_before: before.deleteFiles,
      delete_files_after: after.deleteFiles,
      manifests_before: before.manifests,
      manifests_after: after.manifests,
      snapshots_before: before.snapshots,
      snapshots_after: after.snapshots,
      deletes_applied: compaction.deletesApplied,
      bytes_before: compaction.bytesBefore + compaction.deleteBytesBefore,
      bytes_after: compaction.bytesAfter + compaction.deleteBytesAfter,
      compact_s: Number(compactS.toFixed(2)),
      maintain_s: Number(maintainS.toFixed(2)),
      snapshots_expired: expiry.snapshotsExpired,
      orphans_removed: orphans.removed,
      maintain_peak_rss_mb: Math.round(peakRss / 1024 / 1024),
      scan_s_before: Number(scanBefore.seconds.toFixed(3)),
      scan_s_after: Number(scanAfter.seconds.toFixed(3)),
    }),
  );
}
