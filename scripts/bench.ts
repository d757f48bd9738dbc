/**
 * `npm run bench -- sink [--rows N] [--target-mb M]`: writes N Account-shaped rows (60 columns:
 * strings, doubles, currency, datetimes, dates, booleans, an int) through the Iceberg sink into
 * the local stack as ONE snapshot, and prints its figures, the last line as JSON. Rows are
 * generated as they are written, so memory reflects the sink, not the generator.
 */
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { readBulk } from '../src/salesforce/bulk-reader';
import { SalesforceClient } from '../src/salesforce/client';
import { describeObject, syncableFields } from '../src/salesforce/describe';
import { parseSalesforceSettings, salesforceEnv as E } from '../src/salesforce/settings';
import { buildSoql } from '../src/salesforce/soql';
import { planSchema } from '../src/iceberg/schema-mapping';
import { RowBuffer } from '../src/parquet/writer';
import { SIM_DEFAULTS } from '../test/salesforce-sim/server';
import { loadSettings } from '../src/config/env-file';
import { connectIceberg } from '../src/iceberg/connect';
import { commitFiles } from '../src/iceberg/snapshot-producer';
import { prepareTable } from '../src/iceberg/table';
import { DataFileWriter } from '../src/parquet/writer';
import type { SalesforceField } from '../src/salesforce/describe-types';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function accountShape(): SalesforceField[] {
  const fields: SalesforceField[] = [{ name: 'Id', type: 'id' }];
  for (let i = 0; i < 35; i++) fields.push({ name: `Text${i}__c`, type: i % 5 === 0 ? 'picklist' : 'string' });
  for (let i = 0; i < 10; i++) fields.push({ name: `Number${i}__c`, type: 'double' });
  for (let i = 0; i < 4; i++) fields.push({ name: `Amount${i}__c`, type: 'currency', precision: 18, scale: 2 });
  for (let i = 0; i < 5; i++) fields.push({ name: `When${i}__c`, type: 'datetime' });
  for (let i = 0; i < 2; i++) fields.push({ name: `Day${i}__c`, type: 'date' });
  for (let i = 0; i < 2; i++) fields.push({ name: `Flag${i}__c`, type: 'boolean' });
  fields.push({ name: 'Employees__c', type: 'int' });
  return fields;
}

const picklist = ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'];

/** Deterministic row i, values in column order, in the forms the column builders take. */
function* rows(count: number, columns: number): Generator<unknown[]> {
  const base = Date.UTC(2024, 0, 1) * 1000;
  for (let i = 0; i < count; i++) {
    const row = new Array<unknown>(columns);
    let c = 0;
    row[c++] = `001${i.toString(36).padStart(15, '0')}`;
    for (let k = 0; k < 35; k++) row[c++] = k % 5 === 0 ? picklist[(i + k) % 5] : (i + k) % 11 === 0 ? null : `Value ${k} of account ${i}`;
    for (let k = 0; k < 10; k++) row[c++] = (i * (k + 1)) / 7;
    for (let k = 0; k < 4; k++) row[c++] = BigInt(i * 100 + k); // unscaled cents
    for (let k = 0; k < 5; k++) row[c++] = base + i * 1_000_000 + k;
    for (let k = 0; k < 2; k++) row[c++] = 19000 + ((i + k) % 1000);
    for (let k = 0; k < 2; k++) row[c++] = (i + k) % 2 === 0;
    row[c++] = i % 100_000;
    yield row;
  }
}

async function benchSink(opts: { rows: number; targetMb: number; rowGroupMb: number; keep: boolean }) {
  const settings = loadSettings();
  const { catalog, storeFor } = connectIceberg(settings);
  const namespace = ['bench'];
  const name = `account_${Date.now().toString(36)}`;
  const fields = accountShape();
  const { table } = await prepareTable({ catalog, namespace, name, storeFor, fields, naming: 'snake_case' });
  const schemaFields = table.schema().fields;
  const writer = new DataFileWriter({
    fields: schemaFields,
    store: table.store,
    location: `${table.location}/data`,
    namePrefix: 'bench',
    targetFileBytes: opts.targetMb * 1024 * 1024,
    rowGroupBytes: opts.rowGroupMb * 1024 * 1024,
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  await writer.write(rows(opts.rows, schemaFields.length));
  const files = await writer.close();
  const written = performance.now();
  const result = await commitFiles({ table, runId: `bench-${name}`, files, mode: { kind: 'append' } });
  const done = performance.now();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

  const seconds = (done - started) / 1000;
  const figures = {
    bench: 'sink',
    rows: opts.rows,
    columns: schemaFields.length,
    wall_s: Number(seconds.toFixed(2)),
    rows_per_s: Math.round(opts.rows / seconds),
    // Encoding and uploading overlap (parts go up while later row groups encode): one figure.
    build_encode_upload_s: Number(((written - started) / 1000).toFixed(2)),
    commit_s: Number(((done - written) / 1000).toFixed(2)),
    files: files.length,
    parquet_bytes: writer.bytesWritten,
    mean_file_mb: Number((writer.bytesWritten / files.length / 1024 / 1024).toFixed(1)),
    target_file_mb: opts.targetMb,
    row_group_mb: opts.rowGroupMb,
    snapshots_created: result.alreadyCommitted ? 0 : 1,
    total_records: Number(result.summary['total-records']),
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
  };
  console.log(`Wrote ${opts.rows} rows × ${schemaFields.length} columns into ${table.identifier}: ${files.length} files, ${(writer.bytesWritten / 1e6).toFixed(1)} MB, one snapshot.`);
  if (!opts.keep) await catalog.dropTable(namespace, name, true).catch(() => undefined);
  if (!opts.keep) await table.store.delete(files.map((f) => f.filePath)).catch(() => undefined);
  console.log(JSON.stringify(figures));
}

/** Starts the simulator as its own process (its CPU and memory stay out of the reader's figures). */
async function startSimulator(rows: string): Promise<{ url: string; stop: () => void }> {
  const tsx = path.join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(__dirname, 'sim.ts'), '--rows', rows], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Salesforce simulator on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

async function benchSource(opts: { rows: number; pageRecords: number }) {
  const sim = await startSimulator(`Account=${opts.rows}`);
  try {
    const U = SIM_DEFAULTS.user;
    const client = new SalesforceClient(parseSalesforceSettings({ [E.domain]: sim.url, [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }));
    const d = await describeObject(client, 'Account');
    const fields = syncableFields(d);
    const soql = buildSoql(d, fields.map((f) => f.name), { window: { field: 'SystemModstamp' } });

    // 1. The simulator serving alone: a Bulk job's CSV pages fetched and dropped, nothing parsed.
    let t = performance.now();
    const job = (await (await client.request('POST', '/jobs/query', { 'content-type': 'application/json' }, JSON.stringify({ operation: 'query', query: soql }))).json()) as { id: string };
    while (((await client.get<{ state: string }>(`/jobs/query/${job.id}`)).state) !== 'JobComplete') await new Promise((r) => setTimeout(r, 50));
    let locator: string | null = null;
    let served = 0;
    let servedBytes = 0;
    do {
      const q = new URLSearchParams({ maxRecords: String(opts.pageRecords), ...(locator ? { locator } : {}) });
      const response = await client.request('GET', `/jobs/query/${job.id}/results?${q}`);
      servedBytes += (await response.arrayBuffer()).byteLength;
      served += Number(response.headers.get('sforce-numberofrecords'));
      locator = response.headers.get('sforce-locator');
    } while (locator && locator !== 'null');
    const serveSeconds = (performance.now() - t) / 1000;

    // 2. The Bulk reader: CSV parsed, values normalised, rows appended to Arrow column builders.
    const schema = planSchema(fields, { naming: 'snake_case' }).schema;
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    t = performance.now();
    const cpuBefore = process.cpuUsage();
    let read = 0;
    let batch = new RowBuffer(schema.fields);
    for await (const page of readBulk({ client, soql, fields, maxRecords: opts.pageRecords, pollMs: 50 })) {
      for (const row of page.rows) batch.appendRow(row);
      read += page.rows.length;
      if (batch.length >= 50_000) {
        batch.toRecordBatch();
        batch = new RowBuffer(schema.fields);
      }
    }
    const readSeconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const readerCpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    const figures = {
      bench: 'source',
      rows: opts.rows,
      columns: fields.length,
      simulator_serving_rows_per_s: Math.round(served / serveSeconds),
      simulator_serving_mb: Number((servedBytes / 1e6).toFixed(1)),
      bulk_reader_rows_per_s: Math.round(read / readSeconds),
      bulk_reader_s: Number(readSeconds.toFixed(2)),
      // The reader's own cost: rows per CPU-second of this process (the wall time above includes
      // waiting for the simulator, which generates every row on the same two cores).
      bulk_reader_rows_per_cpu_s: Math.round(read / readerCpuSeconds),
      rows_read: read,
      reader_peak_rss_mb: Math.round(peakRss / 1024 / 1024),
    };
    console.log(`Read ${read} Account rows × ${fields.length} fields through Bulk API 2.0 from the simulator.`);
    console.log(JSON.stringify(figures));
  } finally {
    sim.stop();
  }
}

const program = new Command('bench').description('benchmarks that print their figures (the last line is JSON)');
program
  .command('sink')
  .description('write Account-shaped rows through the Iceberg sink as one snapshot (needs `npm run stack -- up`)')
  .option('--rows <n>', 'rows to write', (v) => Number(v), 1_000_000)
  .option('--target-mb <mb>', 'target (compressed) megabytes per data file', (v) => Number(v), 128)
  .option('--row-group-mb <mb>', 'raw megabytes buffered per row group', (v) => Number(v), 32)
  .option('--keep', 'keep the table afterwards')
  .action(async (opts: { rows: number; targetMb: number; rowGroupMb: number; keep?: boolean }) => {
    await benchSink({ rows: opts.rows, targetMb: opts.targetMb, rowGroupMb: opts.rowGroupMb, keep: !!opts.keep });
  });
program
  .command('source')
  .description('stream Account rows from the Salesforce simulator through the Bulk reader into column batches')
  .option('--rows <n>', 'Account rows in the simulator', (v) => Number(v), 1_000_000)
  .option('--page-records <n>', 'maxRecords per results page', (v) => Number(v), 50_000)
  .action(async (opts: { rows: number; pageRecords: number }) => {
    await benchSource(opts);
  });
program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
