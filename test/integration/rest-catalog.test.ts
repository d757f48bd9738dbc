import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/config/env-file';
import { prepareTable } from '../../src/destinations/iceberg';
import { connectIceberg } from '../../src/iceberg/connect';
import { commitFiles } from '../../src/iceberg/snapshot-producer';
import { DataFileWriter } from '../../src/parquet/writer';
import { portInUse } from '../../scripts/stack/processes';
import { bucket, restWarehouse } from '../../scripts/stack/servers';
import type { ReadResult } from '../helpers/readers';
import { stackSettings, uniqueName, freePorts } from '../helpers/stack';
import { SYNC_RUN_KEYS } from '../../src/table-contract';

// Apache Iceberg's reference REST catalog, brought up by `npm run stack -- up --catalog rest` in a
// stack of its own (own directory, free ports) so the shared stack is untouched.
const root = path.resolve(__dirname, '..', '..');
const tsxCli = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const readersScript = path.join(root, 'test', 'readers', 'iceberg_readers.py');
const run = promisify(execFile);

const stackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-rest-'));
let env: NodeJS.ProcessEnv = {};
let restPort = 0;

/** `npm run stack -- ...` for this stack; asynchronous, so this process sees its sockets close meanwhile. */
async function stack(...args: string[]): Promise<{ status: number; output: string }> {
  try {
    const r = await run(process.execPath, [tsxCli, path.join(root, 'scripts', 'stack.ts'), ...args], { env, timeout: 240_000 });
    return { status: 0, output: `${r.stdout}${r.stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { status: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

function settingsOfStack(): Record<string, string> {
  return parseEnvFile(fs.readFileSync(path.join(stackDir, 'stack.env'), 'utf8'));
}

/** The independent readers (pyiceberg) against this stack's REST catalog. */
async function pyiceberg<T>(...args: string[]): Promise<T> {
  try {
    const { stdout } = await run(stackSettings().READERS_PYTHON, [readersScript, ...args], { env: { ...process.env, ...settingsOfStack() }, maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`readers ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

describe("Apache Iceberg's reference REST catalog in the local stack", () => {
  beforeAll(async () => {
    const [t, tu, m, mc, n, nm, rc] = await freePorts(7);
    restPort = rc!;
    env = {
      ...process.env,
      STACK_DIR: stackDir,
      STACK_TEMPORAL_PORT: String(t),
      STACK_TEMPORAL_UI_PORT: String(tu),
      STACK_MINIO_PORT: String(m),
      STACK_MINIO_CONSOLE_PORT: String(mc),
      STACK_NESSIE_PORT: String(n),
      STACK_NESSIE_MANAGEMENT_PORT: String(nm),
      STACK_REST_CATALOG_PORT: String(rc),
    };
    const up = await stack('up', '--no-readers', '--catalog', 'rest');
    expect(up.status, up.output).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await stack('down', '--purge');
    fs.rmSync(stackDir, { recursive: true, force: true });
  }, 120_000);

  it('writes its settings for the REST catalog and status shows it, without Nessie', async () => {
    const settings = settingsOfStack();
    expect(settings.ICEBERG_CATALOG_URI).toBe(`http://127.0.0.1:${restPort}`);
    const status = await stack('status', '--json');
    expect(status.status, status.output).toBe(0);
    const servers = (JSON.parse(status.output) as { servers: { name: string; healthy: boolean }[] }).servers;
    expect(servers.map((s) => [s.name, s.healthy])).toEqual([
      ['temporal', true],
      ['minio', true],
      ['rest-catalog', true],
    ]);
  });

  it('takes a table from our catalog client and commit path, and one from pyiceberg; each reads the other', async () => {
    const { catalog, storeFor } = connectIceberg(settingsOfStack());
    const namespace = [uniqueName('rest')];
    await catalog.ensureNamespace(namespace);

    const fields = [
      { name: 'Id', type: 'id' as const },
      { name: 'Name', type: 'string' as const },
      { name: 'AnnualRevenue', type: 'currency' as const, precision: 18, scale: 2 },
    ];
    const { table } = await prepareTable({ catalog, namespace, name: 'account', storeFor, fields, naming: 'snake_case', runId: 'create-account' });
    expect(table.location.startsWith(`s3://${bucket}/${restWarehouse}/`)).toBe(true);
    const writer = new DataFileWriter({ fields: table.schema().fields, store: table.store, location: `${table.location}/data`, namePrefix: 'run1' });
    await writer.write([
      ['001000000000000001', 'Acme', '12.50'],
      ['001000000000000002', null, null],
    ]);
    const result = await commitFiles({ keys: SYNC_RUN_KEYS, table, runId: 'run1', files: await writer.close(), mode: { kind: 'append' }, properties: {} });

    const py = await pyiceberg<ReadResult>('read', '--reader', 'pyiceberg', namespace[0]!, 'account');
    expect(py.snapshot_id).toBe(result.snapshotId.toString());
    expect([...py.rows].sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual([
      { id: '001000000000000001', name: 'Acme', annual_revenue: '12.50' },
      { id: '001000000000000002', name: null, annual_revenue: null },
    ]);

    // pyiceberg writes a table of its own; our client lists and loads it.
    await pyiceberg('write-sample', namespace[0]!, 'sample');
    expect((await catalog.listTables(namespace)).sort()).toEqual(['account', 'sample']);
    const sample = await catalog.loadTable(namespace, 'sample');
    expect(sample.metadata['current-snapshot-id']).toBeDefined();
  });

  it('keeps its tables across a restart (SQLite under the stack dir); down stops it', async () => {
    const { catalog } = connectIceberg(settingsOfStack());
    const namespace = [uniqueName('restart')];
    await catalog.ensureNamespace(namespace);

    const down = await stack('down');
    expect(down.status, down.output).toBe(0);
    expect(down.output).toMatch(/rest-catalog: stopped/);
    expect(await portInUse(restPort)).toBe(false);
    expect(fs.existsSync(path.join(stackDir, 'rest-catalog', 'catalog.db'))).toBe(true);

    const up = await stack('up', '--no-readers', '--catalog', 'rest');
    expect(up.status, up.output).toBe(0);
    const namespaces = await catalog.listNamespaces();
    expect(namespaces.map((ns) => ns.join('.'))).toContain(namespace[0]);
  });
});
