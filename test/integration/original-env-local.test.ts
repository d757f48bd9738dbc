import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/env-file';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import { temporalConnection } from '../../worker/temporal-connection';
import type { ObjectOutcome } from '../../workflows';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { readersAt, type ReadResult } from '../helpers/readers';
import { catalogTargets } from '../helpers/catalogs';
import { until, uniqueName } from '../helpers/stack';
import { temporalCliPath } from '../helpers/temporal-cli';

/*
 * The original pipeline's .env.local, with exactly its variable names (its README's file; the
 * simulator's credentials in place of an org's), drives a worker and a sync against the local
 * stack. The worker gets nothing else of the product's settings: the file sits in a project folder
 * of its own (SF_ICEBERG_HOME), no .stack/stack.env is read, and the process environment adds only
 * how to reach the stack's Temporal and S3 service (its address, never a key). Like the original's
 * Lakekeeper warehouse, the file names the stack's Nessie warehouse that vends storage credentials
 * (`vended`: MinIO STS sessions, scoped to each table): the worker holds no S3 key at all, and
 * neither do the readers that check the tables. The sync is started as users of
 * `temporal workflow start` do, with no namespace and no objects: the worker's ICEBERG_NAMESPACE
 * and SALESFORCE_RESOURCES apply.
 */
const stack = loadSettings(undefined, {});
/** The stack's Nessie warehouse that vends storage credentials, and the settings that reach it without keys. */
const vended = catalogTargets({ credentialModes: true }).find((t) => t.credentials === 'vended')!.overrides;
const sim = new SalesforceSimulator({ rowCounts: { Account: 250, Contact: 150 } });
const namespace = uniqueName('envlocal');
const taskQueue = uniqueName('envlocal');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'env-local-'));
let worker: WorkerProcess;
let client: Client;

/** The original .env.local, its values this stack's (a token the catalog ignores: the stack's catalogs need none). */
function originalEnvLocal(): string {
  const s = sim.settingsEnv();
  return [
    '# Salesforce Credentials (SecurityTokenAuth)',
    `SOURCES__SALESFORCE__CREDENTIALS__USER_NAME="${s.SOURCES__SALESFORCE__CREDENTIALS__USER_NAME}"`,
    `SOURCES__SALESFORCE__CREDENTIALS__PASSWORD="${s.SOURCES__SALESFORCE__CREDENTIALS__PASSWORD}"`,
    `SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN="${s.SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN}"`,
    '',
    '# Iceberg REST Catalog Configuration',
    `ICEBERG_CATALOG_URL="${stack.ICEBERG_CATALOG_URI}"`,
    `ICEBERG_WAREHOUSE="${vended.ICEBERG_WAREHOUSE}"`,
    `ICEBERG_NAMESPACE="${namespace}"`,
    `ICEBERG_TOKEN="${stack.ICEBERG_TOKEN ?? 'a-token-the-stack-ignores'}"`,
    '',
    '# Optional: Performance Tuning',
    'BATCH_SIZE=1000',
    '',
    '# Optional: Data Loading Configuration',
    'WRITE_DISPOSITION=default  # default or force_replace',
    'SALESFORCE_RESOURCES=account,contact',
    '',
    '# Optional: Fallback to DuckDB for testing',
    'DUMP_TO_DUCKDB=false',
    '',
  ].join('\n');
}

beforeAll(async () => {
  await sim.start();
  fs.writeFileSync(path.join(home, '.env.local'), originalEnvLocal());
  // What the original file does not say: where Temporal is, and where the local S3 service is (no key).
  const s3 = Object.fromEntries(Object.entries(stack).filter(([k]) => /^S3_(ENDPOINT|REGION|PATH_STYLE)$/.test(k)));
  const env: Record<string, string> = {
    SF_ICEBERG_HOME: home,
    STACK_DIR: path.join(home, '.stack'),
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS!,
    TEMPORAL_NAMESPACE: stack.TEMPORAL_NAMESPACE!,
    TEMPORAL_TASK_QUEUE: taskQueue,
    // The simulator's instance (the original's SOURCES__SALESFORCE__DOMAIN is its org's login host).
    SOURCES__SALESFORCE__DOMAIN: sim.settingsEnv().SOURCES__SALESFORCE__DOMAIN!,
    ...s3,
    S3_BUCKET: vended.S3_BUCKET!,
  };
  // Nothing of the product's own settings may leak in from this process.
  for (const k of Object.keys(process.env)) if (/^(ICEBERG_|S3_|SOURCES__|SYNC_|TEMPORAL_)/.test(k) && !(k in env)) env[k] = undefined as never;
  worker = new WorkerProcess(env);
  await worker.ready(120_000);
  client = new Client({ connection: await Connection.connect(temporalConnection(stack).options), namespace: stack.TEMPORAL_NAMESPACE });
}, 180_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await sim.stop();
  await readersAt(vended, 'drop', namespace).catch(() => undefined);
  fs.rmSync(home, { recursive: true, force: true });
});

const ids = (rows: Record<string, unknown>[]) => rows.map((r) => String(r.id)).sort();
const sourceIds = (object: string) => [...sim.org.records(sim.org.object(object)!, false)].map((r) => String(r.Id)).sort();

describe("the original pipeline's .env.local (env.local)", () => {
  it('starts a worker that says what BATCH_SIZE does here', () => {
    expect(worker.output).toContain('Worker polling');
    expect(worker.output).toMatch(/BATCH_SIZE=1000 \(the original pipeline's rows per Iceberg append\) is not applied: each object's sync commits one snapshot/);
    expect(worker.output).not.toMatch(/is not a setting/);
  });

  it('a sync started with `temporal workflow start` and no input syncs SALESFORCE_RESOURCES into ICEBERG_NAMESPACE, with storage credentials only from the catalog', async () => {
    const workflowId = uniqueName('envlocal-sync');
    const started = spawnSync(
      temporalCliPath(),
      [
        'workflow',
        'start',
        '--address',
        stack.TEMPORAL_ADDRESS!,
        '--namespace',
        stack.TEMPORAL_NAMESPACE!,
        '--type',
        'salesforceSync',
        '--task-queue',
        taskQueue,
        '--workflow-id',
        workflowId,
      ],
      { encoding: 'utf8' },
    );
    expect(started.status, started.stderr).toBe(0);
    const outcomes = (await until(
      'the sync to end',
      async () => {
        const d = await client.workflow.getHandle(workflowId).describe();
        return d.status.name === 'RUNNING' ? undefined : d;
      },
      300_000,
    ).then(() => client.workflow.getHandle(workflowId).result())) as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status])).toEqual([
      ['Account', 'succeeded'],
      ['Contact', 'succeeded'],
    ]);
    for (const [object, table] of [
      ['Account', 'account'],
      ['Contact', 'contact'],
    ] as const) {
      const read = await readersAt<ReadResult>(vended, 'read', '--reader', 'pyiceberg', namespace, table);
      expect(ids(read.rows), object).toEqual(sourceIds(object));
    }
  });
});
