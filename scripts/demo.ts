/**
 * `npm run demo`: the main job on a fresh machine. Brings up the local stack (installing it on first
 * use), starts the Salesforce simulator when no Salesforce credentials are configured (with real
 * ones in .env it syncs the real org), runs the preflight (npm run check), starts a worker, runs salesforceSync for the default objects
 * while showing progress, prints the per-object summary and the Web UI link, and stops what it
 * started.
 *
 *   npm run demo             run, report, stop again what this run started
 *   npm run demo -- --keep   leave the stack, simulator and worker running to explore
 */
import { Client, Connection } from '@temporalio/client';
import { WorkerLogger } from '../worker/logger';
import { Runtime } from '@temporalio/worker';
import { Command } from 'commander';
import { followProgress } from './lib/follow';
import { loadSettings } from '../src/config/env-file';
import { syncArea } from '../src/sync/settings';
import { salesforceEnv } from '../src/salesforce/settings';
import { DEFAULT_OBJECTS } from '../src/sync/objects';
import { SalesforceSimulator } from '../src/salesforce-sim/server';
import { createSyncWorker } from '../worker/create';
import { preflight } from '../worker/preflight';
import { temporalConnection } from '../worker/temporal-connection';
import { formatResult, preflightFailed } from '../src/preflight/checks';
import type { ObjectOutcome } from '../workflows';
import { StackError, down, up } from './stack/index';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function hasSalesforceCredentials(env: Record<string, string>): boolean {
  return Object.values(salesforceEnv).some((name) => name.includes('__CREDENTIALS__') && env[name]);
}

async function main(options: { keep?: boolean; rows: number }): Promise<number> {
  const started = Date.now();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const stack = await up({ log: (line) => console.log(line) });
  const env: Record<string, string> = { ...loadSettings() };

  let sim: SalesforceSimulator | undefined;
  if (!hasSalesforceCredentials(env)) {
    sim = new SalesforceSimulator({ rowCounts: Object.fromEntries(DEFAULT_OBJECTS.map((o) => [o, options.rows])) });
    await sim.start();
    Object.assign(env, { ...sim.settingsEnv(), SYNC_LAG_MS: '0' });
    console.log(`No Salesforce credentials configured: syncing the Salesforce simulator at ${sim.url} (${options.rows} rows per object).`);
  } else {
    console.log('Syncing the Salesforce org configured in the environment / .env.');
  }

  // The checks of `npm run check`, against what is up now: a wrong setting fails here, by name.
  console.log('\nPreflight (npm run check):');
  const checks = await preflight(env, (r) => console.log(`  ${formatResult(r)}`));
  if (preflightFailed(checks)) {
    console.error('\nThe demo stops here: fix what failed above.');
    await sim?.stop();
    if (stack.started.length > 0 && !options.keep) await down({ log: () => undefined });
    clearInterval(sampler);
    return 1;
  }

  Runtime.install({ logger: new WorkerLogger('WARN') });
  const { worker, run, shutdown, connection: workerConnection } = await createSyncWorker(env);
  const running = run();
  const temporal = temporalConnection(env);
  const connection = await Connection.connect(temporal.options);
  const client = new Client({ connection, namespace: temporal.namespace });
  const workflowId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const handle = await client.workflow.start('salesforceSync', { taskQueue: worker.options.taskQueue, workflowId, args: [{ namespace: syncArea.parse(env).SYNC_NAMESPACE }] });
  const ui = `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${workflowId}`;
  console.log(`\nStarted ${workflowId}: ${ui}`);

  const stopFollowing = followProgress(handle);

  let code = 0;
  try {
    const outcomes = (await handle.result()) as ObjectOutcome[];
    console.log('\nPer object:');
    for (const o of outcomes) console.log(`  ${o.object.padEnd(24)} ${o.status}  ${o.result?.rows ?? 0} rows, snapshot ${o.result?.snapshotId ?? '-'}`);
  } catch (error) {
    code = 1;
    console.error(`\nThe sync failed: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}`);
  } finally {
    stopFollowing();
  }
  console.log(`\nTemporal Web UI: ${ui}`);
  console.log('Tables: read them with pyiceberg or DuckDB through the catalog in .stack/stack.env.');

  if (options.keep) {
    console.log('\n--keep: the stack, the simulator and the worker stay up; stop with Ctrl-C, then `npm run stack -- down`.');
    clearInterval(sampler);
    await running;
    return code;
  }
  shutdown();
  await running;
  await workerConnection.close();
  await connection.close();
  await sim?.stop();
  if (stack.started.length > 0) await down({ log: () => undefined });
  clearInterval(sampler);
  console.log(
    `\nDemo ${code === 0 ? 'finished' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s, peak RSS ${Math.round(peakRss / 1024 / 1024)} MB (worker, simulator and demo in one process).`,
  );
  return code;
}

new Command('demo')
  .description('bring up the local stack and sync the default Salesforce objects (the simulator when no org is configured)')
  .option('--keep', 'leave the stack, simulator and worker running afterwards')
  .option('--rows <n>', 'rows per object in the simulator', (v) => Number(v), 5000)
  .action(async (options: { keep?: boolean; rows: number }) => {
    try {
      process.exitCode = await main(options);
    } catch (error) {
      console.error(error instanceof StackError ? `\n${error.message}` : error);
      process.exitCode = 1;
    }
    if (!options.keep) setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  })
  .parseAsync(process.argv);
