/** `npm run tables -- [--namespace ns] [--sample N] [--json] [table...]`: what each synced table holds. */
import { Command } from 'commander';
import { loadSettings } from '../src/config/env-file';
import { connectIceberg } from '../src/iceberg/connect';
import { inspectTables } from '../src/destinations/iceberg-inspect';
import { describeReport } from '../src/maintenance';
import { defaultNamespace } from '../src/sync/sync-defaults';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const plain = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

new Command('tables')
  .argument('[tables...]', 'only these tables')
  .option('--namespace <ns>', 'Iceberg namespace (default: SYNC_NAMESPACE or ICEBERG_NAMESPACE, else salesforce)')
  .option('--sample <n>', 'show N rows of each table', (v) => Number(v), 0)
  .option('--json', 'print JSON')
  .action(async (only: string[], opts: { namespace?: string; sample: number; json?: boolean }) => {
    const env = loadSettings();
    const namespace = opts.namespace ?? defaultNamespace(env);
    const { catalog, storeFor } = connectIceberg(env);
    const reports = await inspectTables({ catalog, namespace: namespace.split('.'), storeFor, sample: opts.sample, only });
    if (opts.json) return console.log(JSON.stringify(reports, (_k, v) => plain(v), 2));
    if (reports.length === 0) console.log(`No tables in namespace ${namespace}.`);
    for (const r of reports) {
      console.log(`\n${r.table}`);
      const count =
        r.salesforceCount === undefined
          ? ''
          : r.salesforceCount === r.rows
            ? ' (Salesforce counted as many)'
            : ` (Salesforce counted ${r.salesforceCount} at the last sync: see its count check)`;
      console.log(`  rows ${r.rows}${count}, snapshots ${r.snapshots}, data files ${r.dataFiles}, delete files ${r.deleteFiles}, ${(r.bytes / 1e6).toFixed(2)} MB`);
      console.log(
        `  last sync ${r.lastSync ?? 'never'}${r.cursor ? `, cursor ${r.cursor}` : ''}${r.reconciledDeletes !== undefined ? `, reconciled: ${r.reconciledDeletes} rows Salesforce no longer has removed` : ''}`,
      );
      const u = r.salesforceUsage;
      if (u) console.log(`  Salesforce spent by the last sync: ${u.apiCalls} API calls, ${u.bulkJobs} Bulk jobs, ${(u.resultBytes / 1e6).toFixed(2)} MB of Bulk results`);
      const m = r.maintenance;
      console.log(`  last maintenance ${m ? `${m.finishedAt}:` : 'never (npm run maintain)'}`);
      for (const line of m ? describeReport(m) : []) console.log(`    ${line}`);
      const specs = r.partitioning.specs > 1 ? ` (the table has had ${r.partitioning.specs} partition specs; older files keep theirs)` : '';
      console.log(`  partitioned: ${r.partitioning.current}${specs}${r.sortOrder ? `; sorted by ${r.sortOrder}` : ''}`);
      console.log(`  schema: ${r.schema.map((f) => `${f.name} ${f.type}${f.required ? ' required' : ''}`).join(', ')}`);
      for (const row of r.sample ?? []) console.log(`  ${JSON.stringify(row, (_k, v) => plain(v))}`);
    }
  })
  .parseAsync(process.argv)
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
