import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../scripts/stack/toolchain';
import { stackPaths } from '../../scripts/stack/paths';
import type { ObjectOutcome } from '../../workflows';
import { readers } from '../helpers/readers';
import { stackSettings, uniqueName, until } from '../helpers/stack';
import { runSyncWorker } from '../helpers/in-process-worker';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const settings = stackSettings();
const sim = new SalesforceSimulator({ rowCounts: { Account: 200, Contact: 100, Opportunity: 100, OpportunityContactRole: 50 } });
/** Each test syncs into a namespace of its own: none depends on what another synced before it. */
const namespaces: string[] = [];
function freshNamespace(): string {
  const ns = uniqueName('commands');
  namespaces.push(ns);
  return ns;
}
const taskQueue = uniqueName('commands');
const temporalBin = which('temporal') ?? path.join(stackPaths.cacheBin, 'temporal');
const env = { ...process.env, ...settings, PATH: `${path.dirname(temporalBin)}:${process.env.PATH}` };
let worker: { stop: () => Promise<void> };
let client: Client;
const schedules: string[] = [];

beforeAll(async () => {
  await sim.start();
  worker = await runSyncWorker({ ...settings, ...sim.settingsEnv(), SYNC_LAG_MS: '0' }, taskQueue);
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterAll(async () => {
  for (const id of schedules)
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await worker?.stop();
  await sim.stop();
  for (const ns of namespaces) await readers('drop', ns).catch(() => undefined);
});

/**
 * A `temporal ...` command as the README shows it (continuation lines joined), pointed at this
 * test's task queue and namespace: the README's examples are what is run, not a copy of them.
 */
function readmeCommand(prefix: string, namespace: string): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8').replace(/\\\n\s*/g, '');
  const line = readme.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`README.md has no line starting with ${prefix}`);
  return line
    .replace(/#.*$/, '')
    .replace('--task-queue salesforce-sync', `--task-queue ${taskQueue}`)
    .replace(/--input '([^']*)'/, (_, json: string) => `--input '${JSON.stringify({ ...JSON.parse(json), namespace })}'`);
}

async function npmScript(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', `${script}.ts`), ...args], { cwd: root, env });
  return stdout;
}

describe('the commands users run (Temporal CLI lines from the README, npm run schedule)', () => {
  it("README's `temporal workflow start` line starts a sync that the worker completes", async () => {
    const workflowId = uniqueName('readme-start');
    const command = readmeCommand('temporal workflow start', freshNamespace()).replace(/--workflow-id (?:\$\([^)]*\)|[^\s$])+/, `--workflow-id ${workflowId}`);
    expect(command).toContain('--type salesforceSync');
    await run('bash', ['-c', command], { env });
    const outcomes = (await client.workflow.getHandle(workflowId).result()) as ObjectOutcome[];
    expect(outcomes.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 200],
      ['Contact', 'succeeded', 100],
    ]);
  });

  it("README's `temporal schedule create` line makes a schedule with overlap Skip that runs the sync", async () => {
    const scheduleId = uniqueName('readme-schedule');
    schedules.push(scheduleId);
    const command = readmeCommand('temporal schedule create', freshNamespace())
      .replace(/--schedule-id \S+/, `--schedule-id ${scheduleId}`)
      .replace(/--workflow-id \S+/, `--workflow-id ${scheduleId}`);
    await run('bash', ['-c', command], { env });
    const handle = client.schedule.getHandle(scheduleId);
    const described = await handle.describe();
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'salesforceSync', taskQueue });
    expect(Number(described.spec.intervals?.[0]?.every)).toBe(3_600_000);
    // `npm run schedule -- trigger` starts a run of it now.
    expect(await npmScript('schedule', 'trigger', scheduleId)).toContain(`Triggered ${scheduleId}`);
    const workflowId = await until('the triggered run', async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId);
    expect(workflowId.startsWith(`${scheduleId}-`)).toBe(true);
    const outcomes = (await client.workflow.getHandle(workflowId).result()) as ObjectOutcome[];
    expect(outcomes.map((o) => o.object)).toEqual(['Account', 'Contact', 'Opportunity', 'OpportunityContactRole']);
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
  });

  it('npm run schedule: create, trigger twice while a run is going (the second is skipped), list, delete', async () => {
    const scheduleId = uniqueName('npm-schedule');
    const namespace = freshNamespace();
    schedules.push(scheduleId);
    const created = await npmScript(
      'schedule',
      'create',
      '--id',
      scheduleId,
      '--every',
      '6h',
      '--namespace',
      namespace,
      '--task-queue',
      taskQueue,
      // The flag's old name (--write-mode now): still read, and the input is built in the current names.
      '--mode',
      'Account=replace',
      'Account',
    );
    expect(created).toMatch(new RegExp(`Created schedule ${scheduleId}: every 6h, overlap skip, next run \\d{4}-`));
    // The first run's Bulk job (replace reads every row) is held: it is still running when the second
    // trigger arrives. (Not its describe: a worker that synced Account before asks it inside prepare's Composite request.)
    const held = sim.hold({ path: '/jobs/query' });
    await npmScript('schedule', 'trigger', scheduleId);
    const handle = client.schedule.getHandle(scheduleId);
    const firstRun = await until('the first run', async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId);
    expect((await client.workflow.getHandle(firstRun).describe()).status.name).toBe('RUNNING');
    await npmScript('schedule', 'trigger', scheduleId);
    const skipped = await until('the second trigger to be skipped', async () => {
      const d = await handle.describe();
      return d.info.numActionsSkippedOverlap > 0 ? d : undefined;
    });
    expect(skipped.info.numActionsSkippedOverlap).toBe(1);
    expect(skipped.info.recentActions).toHaveLength(1);
    held.release();
    const outcomes = (await client.workflow.getHandle(firstRun).result()) as ObjectOutcome[];
    expect(outcomes).toMatchObject([{ object: 'Account', status: 'succeeded', result: { rows: 200 } }]);

    const listed = JSON.parse(await npmScript('schedule', 'list', '--json')) as {
      id: string;
      overlap: string;
      spec: string;
      input: unknown;
      recent: unknown[];
      skippedOverlap: number;
    }[];
    expect(listed.find((s) => s.id === scheduleId)).toMatchObject({
      overlap: 'skip',
      spec: 'every 6h',
      input: { objects: ['Account'], namespace, readMode: 'incremental', overrides: { Account: { writeMode: 'replace' } } },
      skippedOverlap: 1,
    });
    expect(await npmScript('schedule', 'delete', scheduleId)).toContain(`Deleted schedule ${scheduleId}`);
    const after = JSON.parse(await npmScript('schedule', 'list', '--json')) as { id: string }[];
    expect(after.map((s) => s.id)).not.toContain(scheduleId);
    const missing = await npmScript('schedule', 'trigger', scheduleId).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(missing).toContain(`There is no schedule ${scheduleId}`);
  });

  it('npm run sync: prints each object, a failed one with its code and why, and exits 1', async () => {
    const namespace = freshNamespace();
    const failed = await npmScript('sync', 'Contact', 'NoSuchObject__c', '--namespace', namespace, '--task-queue', taskQueue).then(
      () => undefined,
      (e: { code?: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('The sync failed: 1 of 2 objects failed: NoSuchObject__c: Salesforce has no object named NoSuchObject__c');
    const lines = failed!.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(lines).toContain('Contact succeeded 100 rows');
    expect(lines).toContain(
      'NoSuchObject__c failed UNKNOWN_OBJECT: Salesforce has no object named NoSuchObject__c: it was not synced (names are case-insensitive; custom objects end in __c). Check the object list of the sync.',
    );
  });

  it("table maintenance: README's `temporal workflow start` and `temporal schedule create` lines, npm run maintain, npm run tables", async () => {
    const namespace = freshNamespace();
    const synced = (await client.workflow.execute('salesforceSync', {
      taskQueue,
      workflowId: uniqueName('maint-sync'),
      args: [{ objects: ['Account'], namespace }],
    })) as ObjectOutcome[];
    expect(synced[0]!.status).toBe('succeeded');
    const workflowId = `maintain/${namespace}.account`;
    const command = readmeCommand('temporal workflow start --type maintainTable', namespace).replace(/--workflow-id \S+/, `--workflow-id ${workflowId}`);
    await run('bash', ['-c', command], { env });
    const report = (await client.workflow.getHandle(workflowId).result()) as { table: string; compaction?: { skipped?: string } };
    expect(report.table).toBe(`${namespace}.account`);
    // One data file, no deletes: nothing to compact.
    expect(report.compaction?.skipped).toMatch(/nothing to compact/);

    const scheduleId = uniqueName('readme-maintenance');
    schedules.push(scheduleId);
    const schedule = readmeCommand('temporal schedule create --schedule-id salesforce-maintenance', namespace)
      .replace(/--schedule-id \S+/, `--schedule-id ${scheduleId}`)
      .replace(/--workflow-id \S+/, `--workflow-id ${scheduleId}`);
    await run('bash', ['-c', schedule], { env });
    const described = await client.schedule.getHandle(scheduleId).describe();
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'maintainNamespace', taskQueue });
    // A run of it now: maintainNamespace maintains each table of the namespace in a child of its own.
    await client.schedule.getHandle(scheduleId).trigger();
    const runId = await until('the triggered maintenance', async () => (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action.workflow.workflowId);
    const outcomes = (await client.workflow.getHandle(runId).result()) as { table: string; status: string }[];
    expect(outcomes.map((o) => [o.table, o.status])).toEqual([['account', 'succeeded']]);

    const printed = await npmScript('maintain', 'account', '--namespace', namespace, '--task-queue', taskQueue, '--steps', 'compact,orphans');
    expect(printed).toContain(`${namespace}.account: succeeded`);
    expect(printed).toMatch(/compaction: skipped \(nothing to compact/);
    expect(printed).toMatch(/orphan removal: 0 files/);
    const tables = await npmScript('tables', '--namespace', namespace);
    expect(tables).toMatch(/last maintenance \d{4}-.*\n\s+compaction: skipped/);
  });
});
