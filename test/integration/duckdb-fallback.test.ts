import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectOutcome } from '../../workflows';
import { stackSettings, uniqueName } from '../helpers/stack';
import { runSyncWorker } from '../helpers/in-process-worker';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

const run = promisify(execFile);
const settings = stackSettings();
const sim = new SalesforceSimulator({ rowCounts: { Account: 400, Contact: 150 } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duckdb-fallback-'));
const file = path.join(dir, 'salesforce.duckdb'); /* named like the schema on purpose */
const taskQueue = uniqueName('duckdb');
let worker: { stop: () => Promise<void> };
let client: Client;

beforeAll(async () => {
  await sim.start();
  // Only Temporal and Salesforce settings: DuckDB mode needs no catalog and no S3.
  const env = {
    TEMPORAL_ADDRESS: settings.TEMPORAL_ADDRESS,
    DUMP_TO_DUCKDB: 'true',
    DUCKDB_PATH: file,
    ...sim.settingsEnv(),
    SYNC_LAG_MS: '0',
  };
  worker = await runSyncWorker(env, taskQueue);
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterAll(async () => {
  await worker?.stop();
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function sync(objects: string[]): Promise<ObjectOutcome[]> {
  return client.workflow.execute('salesforceSync', { taskQueue, workflowId: uniqueName('duckdb-sync'), args: [{ objects, namespace: 'salesforce' }] });
}

/** The file read by DuckDB's own Python package (not by our code). */
async function query(sql: string): Promise<unknown[][]> {
  const script = 'import duckdb, json, sys\ncon = duckdb.connect(sys.argv[1], read_only=True)\nprint(json.dumps(con.execute(sys.argv[2]).fetchall(), default=str))';
  const { stdout } = await run(settings.READERS_PYTHON, ['-c', script, file, sql]);
  return JSON.parse(stdout) as unknown[][];
}

const byId = (a: unknown[], b: unknown[]) => (String(a[0]) < String(b[0]) ? -1 : 1);

function source(object: string): [string, string][] {
  return [...sim.org.records(sim.org.object(object)!, false)].map((r) => [String(r.Id), String(r.Name)] as [string, string]).sort(byId);
}

describe('DuckDB fallback (DUMP_TO_DUCKDB=true)', () => {
  it('the same objects land in a local DuckDB file; an incremental sync merges updates and deletes', async () => {
    const first = await sync(['Account', 'Contact']);
    expect(first.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 400],
      ['Contact', 'succeeded', 150],
    ]);
    expect((await query('SELECT id, name FROM salesforce.salesforce.account')).sort(byId)).toEqual(source('Account'));
    expect(await query('SELECT count(*) FROM salesforce.salesforce.contact')).toEqual([[150]]);
    // Types follow the same mapping as Iceberg: datetimes are timezone-aware.
    const types = await query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'salesforce' AND table_name = 'account' AND column_name IN ('system_modstamp', 'annual_revenue', 'is_deleted')",
    );
    expect(Object.fromEntries(types as [string, string][])).toMatchObject({ system_modstamp: 'TIMESTAMP WITH TIME ZONE', is_deleted: 'BOOLEAN' });

    const ids = source('Account').map((r) => r[0]);
    sim.org.update('Account', ids[3]!, { Name: 'Renamed for DuckDB' });
    sim.org.delete('Account', ids[4]!);
    const second = await sync(['Account']);
    expect(second[0]!.result).toMatchObject({ rows: 1, deleted: 1 });
    expect((await query('SELECT id, name FROM salesforce.salesforce.account')).sort(byId)).toEqual(source('Account'));
    const [[cursor]] = (await query("SELECT cursor FROM _salesforce_sync WHERE table_name = 'account'")) as [[string]];
    expect(cursor).toMatch(/Z$/);
    // Staging Parquet files are removed once loaded.
    const staged = fs.existsSync(`${file}.files`) ? fs.readdirSync(`${file}.files`, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
    expect(staged).toEqual([]);
  });
});
