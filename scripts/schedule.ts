/**
 * `npm run schedule -- create|list|delete|trigger`: syncs on a Temporal Schedule (e.g. hourly
 * incremental, nightly full). Overlapping runs are skipped by default, so two syncs of one table
 * never run at once.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleSpec } from '@temporalio/client';
import { Command } from 'commander';
import { syncInput, temporalClient, withSyncInputOptions, type SyncInputOptions } from './lib/sync-input';
import { loadSettings } from '../src/config/env-file';

const env = loadSettings();
const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

type Temporal = Awaited<ReturnType<typeof temporalClient>>;

async function withClient<T>(work: (client: Temporal['client'], temporal: Temporal['temporal']) => Promise<T>): Promise<T> {
  const { client, connection, temporal } = await temporalClient(env);
  try {
    return await work(client, temporal);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new Error(`There is no schedule ${error.scheduleId} (npm run schedule -- list shows them).`);
    throw error;
  } finally {
    await connection.close();
  }
}

const program = new Command('schedule').description('syncs on Temporal Schedules');

withSyncInputOptions(program.command('create').description('create a schedule that starts salesforceSync'))
  .requiredOption('--id <scheduleId>', "schedule id (also the start of every run's workflow id)")
  .option('--every <interval>', 'run every interval, e.g. 1h, 30m, 1d (default 1h unless --cron)')
  .option('--cron <expression>', 'run on a cron expression (UTC), e.g. "0 2 * * *" for 02:00 nightly')
  .option('--overlap <policy>', `what happens when a run is due while the last one runs: ${Object.keys(OVERLAP).join(', ')}`, 'skip')
  .option('--paused', 'create it paused')
  .action(async (objects: string[], opts: SyncInputOptions & { id: string; every?: string; cron?: string; overlap: string; paused?: boolean; taskQueue?: string }) => {
    const overlap = OVERLAP[opts.overlap];
    if (overlap === undefined) throw new Error(`--overlap ${opts.overlap}: expected one of ${Object.keys(OVERLAP).join(', ')}`);
    const spec: ScheduleSpec = opts.cron ? { cronExpressions: [opts.cron] } : { intervals: [{ every: (opts.every ?? '1h') as '1h' }] };
    const input = syncInput(objects, opts);
    await withClient(async (client, temporal) => {
      const handle = await client.schedule.create({
        scheduleId: opts.id,
        spec,
        action: { type: 'startWorkflow', workflowType: 'salesforceSync', workflowId: opts.id, taskQueue: opts.taskQueue ?? temporal.taskQueue, args: [input] },
        policies: { overlap },
        state: { paused: Boolean(opts.paused), note: 'created by npm run schedule' },
      });
      const described = await handle.describe();
      const next = described.info.nextActionTimes[0];
      console.log(
        `Created schedule ${opts.id}: ${opts.cron ? `cron ${opts.cron}` : `every ${opts.every ?? '1h'}`}, overlap ${opts.overlap}${opts.paused ? ', paused' : next ? `, next run ${next.toISOString()}` : ''}`,
      );
    });
  });

program
  .command('list')
  .description('every schedule: what it runs, when, and its latest runs')
  .option('--json', 'as JSON')
  .action(async (opts: { json?: boolean }) => {
    await withClient(async (client) => {
      const rows = [];
      for await (const s of client.schedule.list()) {
        const d = await client.schedule.getHandle(s.scheduleId).describe();
        // Temporal keeps a cron expression as calendar entries.
        const spec = [...(d.spec.intervals ?? []).map((i) => `every ${duration(Number(i.every))}`), ...(d.spec.calendars ?? []).map((c) => `calendar ${JSON.stringify(c)}`)].join(
          ', ',
        );
        rows.push({
          id: s.scheduleId,
          workflow: d.action.type === 'startWorkflow' ? d.action.workflowType : d.action.type,
          input: d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined,
          spec,
          overlap: Object.keys(OVERLAP).find((k) => OVERLAP[k] === d.policies.overlap) ?? String(d.policies.overlap),
          paused: d.state.paused,
          next: d.info.nextActionTimes[0]?.toISOString(),
          running: d.info.runningActions.map((a) => a.workflow.workflowId),
          recent: d.info.recentActions.slice(-3).map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
          skippedOverlap: d.info.numActionsSkippedOverlap,
        });
      }
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log('No schedules (create one with: npm run schedule -- create --id hourly --every 1h)');
      for (const r of rows) {
        console.log(`${r.id}: ${r.workflow} ${JSON.stringify(r.input)}`);
        console.log(`  ${r.spec}, overlap ${r.overlap}${r.paused ? ', paused' : ''}, next ${r.next ?? '-'}, skipped for overlap ${r.skippedOverlap}`);
        for (const w of r.running) console.log(`  running: ${w}`);
        for (const a of r.recent) console.log(`  ran ${a.at}: ${a.workflowId}`);
      }
    });
  });

program
  .command('trigger <scheduleId>')
  .description('start a run now (skipped, like any other, if one is still running and the policy is skip)')
  .action(async (id: string) => {
    await withClient(async (client) => {
      const handle = client.schedule.getHandle(id);
      // The SDK's trigger defaults to "allow all"; a manual run keeps to the schedule's own policy.
      await handle.trigger((await handle.describe()).policies.overlap);
      console.log(`Triggered ${id}; npm run schedule -- list shows the run.`);
    });
  });

program
  .command('delete <scheduleId>')
  .description('delete a schedule (runs already started go on)')
  .action(async (id: string) => {
    await withClient(async (client) => {
      await client.schedule.getHandle(id).delete();
      console.log(`Deleted schedule ${id}.`);
    });
  });

/** 7200000 → 2h (what Temporal returns is milliseconds). */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

program.parseAsync(process.argv).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
