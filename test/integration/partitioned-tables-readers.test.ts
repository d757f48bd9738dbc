import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SalesforceSyncInput } from '../../workflows';
import { connectIceberg } from '../../src/iceberg/connect';
import { currentSchema, defaultSpec, type TableMetadata } from '../../src/iceberg/spec';
import { columnName } from '../../src/mapping/schema-mapping';
import type { MaintenanceReport } from '../../src/maintenance';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { maintainTableId } from '../../workflows/maintenance';
import { catalogTargets, type CatalogTarget } from '../helpers/catalogs';
import { ReaderSession, type ReadResult } from '../helpers/readers';
import { icebergType, readerForm } from '../helpers/source-rows';
import { syncHarness } from '../helpers/sync-harness';

// Partitioned tables proved by the readers, on both catalogs of the stack: the simulator's Task
// (created over three years at instants unrelated to the Id) synced into a table partitioned by
// month(CreatedDate) and bucket(4, AccountId), then through an incremental merge whose updates move
// rows between buckets and whose deletes fall in several partitions, a new field, a replace, a
// partition spec evolution (partitionBy changed between syncs) followed by a merge into files of
// both specs, and the table's maintenance. After each step pyiceberg, DuckDB and Spark read the
// same rows as the source; Spark's own partition functions agree with every row's partition; and a
// one-month filter plans fewer data files than the table has while every reader still finds all of
// the month's rows.
const ROWS = 1800;
const sim = new SalesforceSimulator({ rowCounts: { Task: ROWS, Account: 60 } });
const targets = catalogTargets();
// CreatedDate ranges of 400 rows: a full read of the table partitioned by month(CreatedDate) is
// extracted in ranges of whole months, each a Bulk job of its own; small merges are not.
const harness = syncHarness({ name: 'parts', sim, workers: Object.fromEntries(targets.map((t) => [t.name, { ...t.overrides, SYNC_PARTITION_SLICE_ROWS: '400' }])) });
const session = new ReaderSession();
afterAll(() => session.close());
// Six syncs, a maintenance run and about thirty reads per catalog on a shared 2-core machine.
vi.setConfig({ testTimeout: 300_000 });

const FIRST_SPEC = ['month(CreatedDate)', 'bucket(4, AccountId)'];
const EVOLVED_SPEC = ['year(CreatedDate)', 'bucket(4, AccountId)'];
/** The month the pruning checks filter on, and its bounds. */
const MONTH = { name: '2024-06', from: '2024-06-01T00:00:00.000Z', to: '2024-07-01T00:00:00.000Z' };

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
const task = () => sim.org.object('Task')!;
const taskRecords = () => [...sim.org.records(task(), false)];

/** The source's Task rows in the readers' form, over the columns the table has. */
function sourceRows(columns: string[]): Record<string, unknown>[] {
  const fields = columns.map((c) => task().fields.find((f) => columnName(f.name, 'snake_case') === c));
  return byId(taskRecords().map((r) => Object.fromEntries(columns.map((c, i) => [c, fields[i] ? readerForm(fields[i]!, r[fields[i]!.name]) : null]))));
}

/** Source rows created in MONTH. */
const monthRows = () => taskRecords().filter((r) => String(r.CreatedDate) >= MONTH.from && String(r.CreatedDate) < MONTH.to).length;
const monthOf = (r: Record<string, unknown>) => String(r.CreatedDate).slice(0, 7);

/** Spark's partition function for a transform of a column (Iceberg's `system` functions), as SQL. */
function sparkTransform(transform: string, column: string): string {
  const arg = /^(bucket|truncate)\[(\d+)\]$/.exec(transform);
  if (arg) return `{catalog}.system.${arg[1]}(${arg[2]}, \`${column}\`)`;
  const plural: Record<string, string> = { year: 'years', month: 'months', day: 'days', hour: 'hours' };
  if (plural[transform]) return `{catalog}.system.${plural[transform]}(\`${column}\`)`;
  if (transform === 'identity') return `\`${column}\``;
  return 'NULL';
}

describe.each(targets)('partitioned tables on $title', (target) => {
  const env = target.overrides;
  const { catalog } = connectIceberg(target.settings);
  const metadata = async (namespace: string): Promise<TableMetadata> => (await catalog.loadTable([namespace], 'task')).metadata;
  const sync = async (namespace: string, partitionBy: string[], extra: Record<string, unknown> = {}) => {
    // partitionBy per object, as users write it in the sync input.
    const input = { objects: ['Task'], namespace, overrides: { Task: { partitionBy, ...extra } } } as SalesforceSyncInput;
    const outcomes = await harness.sync(input, { queue: target.name });
    expect(outcomes.map((o) => [o.object, o.status, o.error])).toEqual([['Task', 'succeeded', undefined]]);
    return outcomes[0]!.result!;
  };

  /** All three readers read the same rows, values and types, and they are the source's; pyiceberg's answer. */
  async function readAll(namespace: string, what: string): Promise<ReadResult> {
    const py = await session.must(['read', '--reader', 'pyiceberg', namespace, 'task'], env);
    const spark = await session.must(['read', '--reader', 'spark', namespace, 'task'], env);
    const duck = await session.must(['read', '--reader', 'duckdb', namespace, 'task'], env);
    expect(byId(py.rows), `${what}: pyiceberg and the source`).toEqual(sourceRows(py.columns.map((c) => c.name)));
    expect(byId(spark.rows), `${what}: Spark and pyiceberg`).toEqual(byId(py.rows));
    expect(byId(duck.rows), `${what}: DuckDB and pyiceberg`).toEqual(byId(py.rows));
    const types = (r: ReadResult) => r.columns.map((c) => [c.name, icebergType(r.reader, c.type)]);
    expect(types(spark), `${what}: Spark's types`).toEqual(types(py));
    expect(types(duck), `${what}: DuckDB's types`).toEqual(types(py));
    return py;
  }

  /**
   * Spark's view of where rows sit: rows whose partition (`_partition`, under their file's spec)
   * differs from what Spark's own transforms compute from their values, how many distinct
   * (spec, partition) pairs hold rows, and the spec and partition of the rows `ids`.
   */
  async function partitionsBySpark(namespace: string, ids: string[] = []) {
    const meta = await metadata(namespace);
    const column = (id: number) => currentSchema(meta).fields.find((f) => f.id === id)!.name;
    const cases = meta['partition-specs']
      .filter((s) => s.fields.length > 0)
      .map((s) => `WHEN ${s['spec-id']} THEN ${s.fields.map((f) => `_partition.\`${f.name}\` <=> ${sparkTransform(f.transform, column(f['source-id']))}`).join(' AND ')}`);
    const wanted = ids.length ? ids.map((i) => `'${i}'`).join(', ') : 'NULL';
    const query =
      `SELECT count_if(NOT (CASE _spec_id ${cases.join(' ')} ELSE false END)) AS misplaced, count(DISTINCT _spec_id, to_json(_partition)) AS partitions, ` +
      `to_json(map_from_entries(collect_list(CASE WHEN id IN (${wanted}) THEN struct(id, concat(_spec_id, ':', to_json(_partition))) END))) AS located FROM {table}`;
    const [row] = (await session.must<{ rows: { misplaced: number; partitions: number; located: string }[] }>(['sql', namespace, 'task', query], env)).rows;
    return { misplaced: row!.misplaced, partitions: row!.partitions, of: new Map(Object.entries(JSON.parse(row!.located) as Record<string, string>)) };
  }

  const filter = ['--column', 'created_date', '--from', MONTH.from, '--to', MONTH.to];
  /** pyiceberg's plan for a one-month filter: data files planned, of all; the delete files and specs of the live data files. */
  const plan = (namespace: string) =>
    session.must<{ planned: number; total: number; planned_records: number; delete_files: number; specs: number[] }>(['plan', namespace, 'task', ...filter], env);

  /** A one-month filter: pyiceberg plans fewer data files than the table has, and pyiceberg and DuckDB scans with it find the month's rows. */
  async function expectPruning(namespace: string, what: string) {
    const planned = await plan(namespace);
    expect(planned.planned, `${what}: files planned for ${MONTH.name}`).toBeGreaterThan(0);
    expect(planned.planned, `${what}: files planned for ${MONTH.name} of ${planned.total}`).toBeLessThan(planned.total);
    for (const reader of ['pyiceberg', 'duckdb']) {
      const scan = await session.must<{ rows: number }>(['scan', '--reader', reader, namespace, 'task', ...filter, '--runs', '1'], env);
      expect(scan.rows, `${what}: ${reader} rows of ${MONTH.name}`).toBe(monthRows());
    }
    return planned;
  }

  it('partitioned tables: full, merge across partitions, new field, replace, spec evolution and compaction read alike by pyiceberg, DuckDB and Spark; a month filter prunes', async () => {
    const namespace = harness.namespace(env);
    // The simulator is shared by the catalogs' tests: what an earlier one changed is the source now.
    const newField = `Outcome_${target.name}__c`;

    // 1. Full sync into a new table partitioned by month(CreatedDate) and bucket(4, AccountId):
    // about 1,800 rows in CreatedDate ranges of whole months, one Bulk job each.
    const jobsBefore = sim.counters.bulkJobs;
    expect(await sync(namespace, FIRST_SPEC)).toMatchObject({ rows: taskRecords().length });
    const created = taskRecords()
      .map((r) => String(r.CreatedDate))
      .sort();
    const monthIndex = (iso: string) => Number(iso.slice(0, 4)) * 12 + Number(iso.slice(5, 7));
    const months = monthIndex(created.at(-1)!) - monthIndex(created[0]!) + 1;
    // As many ranges as 400-row partitions would be, each a whole number of months.
    const ranges = Math.ceil(months / Math.ceil(months / Math.ceil(created.length / 400)));
    expect(ranges).toBeGreaterThan(2);
    expect(sim.counters.bulkJobs - jobsBefore, 'Bulk jobs of the full sync: one per CreatedDate range').toBe(ranges);
    await readAll(namespace, 'full sync');
    const spec = defaultSpec(await metadata(namespace));
    const columnOf = (m: TableMetadata, id: number) => currentSchema(m).fields.find((f) => f.id === id)?.name;
    const m0 = await metadata(namespace);
    expect(spec.fields.map((f) => [f.transform, columnOf(m0, f['source-id'])])).toEqual([
      ['month', 'created_date'],
      ['bucket[4]', 'account_id'],
    ]);
    let where = await partitionsBySpark(namespace);
    expect(where.misplaced, 'rows outside their partition after the full sync').toBe(0);
    // Three years of months times four buckets (and AccountId's nulls): rows in well over 36 partitions.
    expect(where.partitions).toBeGreaterThan(36);
    const fullPlan = await expectPruning(namespace, 'full sync');
    expect(fullPlan.total).toBeGreaterThanOrEqual(where.partitions);
    // Files of one month hold that month's rows only: what is planned is exactly the month.
    expect(fullPlan.planned_records).toBe(monthRows());
    expect(fullPlan.planned * 20).toBeLessThanOrEqual(fullPlan.total);

    // 2. Incremental merge: AccountId changes move rows between buckets; deletes in several months.
    const rows = byId(taskRecords().map((r) => ({ ...r, id: r.Id })));
    const accounts = [...sim.org.records(sim.org.object('Account')!, false)].map((a) => String(a.Id));
    const moved = rows.slice(10, 16).map((r) => String(r.Id));
    const before = (await partitionsBySpark(namespace, moved)).of;
    // Accounts no earlier test set on these rows: each target moves them anew.
    const shift = targets.indexOf(target) * 13;
    moved.forEach((id, k) => sim.org.update('Task', id, { AccountId: accounts[(k * 7 + 3 + shift) % accounts.length], Subject: `Moved ${k}` }));
    // A row of each of four months.
    const deleted = [...new Map(rows.filter((r) => !moved.includes(String(r.Id))).map((r) => [monthOf(r), r])).values()].slice(0, 4);
    for (const r of deleted) sim.org.delete('Task', String(r.Id));
    expect(await sync(namespace, FIRST_SPEC)).toMatchObject({ rows: moved.length, deleted: deleted.length });
    await readAll(namespace, 'merge');
    where = await partitionsBySpark(namespace, moved);
    expect(where.misplaced, 'rows outside their partition after the merge').toBe(0);
    expect(moved.filter((id) => where.of.get(id) !== before.get(id)).length, 'rows the merge moved to another bucket').toBeGreaterThan(0);
    // Position deletes are written per partition: the deletes of several months are in several files.
    expect((await plan(namespace)).delete_files).toBeGreaterThan(1);

    // 3. A field added in Salesforce: a new column, every row read again and merged.
    sim.org.addField('Task', { name: newField, type: 'string', label: 'Outcome', nillable: true, custom: true, compoundFieldName: null, gen: () => null });
    sim.org.update('Task', String(rows[20]!.Id), { [newField]: 'Won the deal' });
    expect(await sync(namespace, FIRST_SPEC)).toMatchObject({ reread: 'new-fields' });
    const widened = await readAll(namespace, 'new field');
    expect(widened.columns.map((c) => c.name)).toContain(columnName(newField, 'snake_case'));

    // 4. Replace: the table becomes what was read, still partitioned.
    sim.org.update('Task', String(rows[21]!.Id), { Subject: 'Before the replace', AccountId: accounts[1] });
    await sync(namespace, FIRST_SPEC, { writeMode: 'replace' });
    const replaced = await readAll(namespace, 'replace');
    expect(replaced.summary?.operation).toBe('overwrite');
    expect((await partitionsBySpark(namespace)).misplaced, 'rows outside their partition after the replace').toBe(0);

    // 5. partitionBy changed: the spec evolves (old files keep theirs); a merge then writes new files
    // under the new spec and deletes rows held in files of the old one.
    const later = byId(taskRecords().map((r) => ({ ...r, id: r.Id })));
    const movedAgain = later.slice(30, 34).map((r) => String(r.Id));
    movedAgain.forEach((id, k) => sim.org.update('Task', id, { AccountId: accounts[(k * 11 + 5 + shift) % accounts.length], Status: 'Completed', IsClosed: true }));
    for (const r of later.slice(40, 42)) sim.org.delete('Task', String(r.Id));
    expect(await sync(namespace, EVOLVED_SPEC)).toMatchObject({ rows: movedAgain.length, deleted: 2 });
    const m1 = await metadata(namespace);
    expect(m1['partition-specs'].length).toBe(2);
    expect(defaultSpec(m1).fields.map((f) => [f.transform, columnOf(m1, f['source-id'])])).toEqual([
      ['year', 'created_date'],
      ['bucket[4]', 'account_id'],
    ]);
    await readAll(namespace, 'spec evolution');
    expect((await partitionsBySpark(namespace)).misplaced, 'rows outside their partition after the spec evolution').toBe(0);
    const evolved = await expectPruning(namespace, 'spec evolution');
    expect(evolved.specs, 'data files of both specs').toEqual([spec['spec-id'], defaultSpec(m1)['spec-id']].sort());

    // 6. Maintenance (the maintainTable workflow): compaction partition by partition, deletes applied.
    const report: MaintenanceReport = await harness.client.workflow.execute('maintainTable', {
      taskQueue: `${harness.taskQueue}-${target.name}`,
      workflowId: maintainTableId(namespace, 'task'),
      args: [{ namespace, table: 'task' }],
    });
    expect(report.compaction?.deleteFilesAfter).toBe(0);
    await readAll(namespace, 'compaction');
    expect((await partitionsBySpark(namespace)).misplaced, 'rows outside their partition after compaction').toBe(0);
    const compacted = await expectPruning(namespace, 'compaction');
    expect(compacted.delete_files).toBe(0);
    expect(compacted.total).toBeLessThan(evolved.total);
  });
});
