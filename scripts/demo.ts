/**
 * `npm run demo`: the main job on a fresh machine. Brings up the local stack (installing it on first
 * use), checks every server answers, and prints where to look. The Salesforce sync joins this
 * command when it lands; until then the demo proves the ground it runs on.
 *
 *   npm run demo             bring up, report, stop again what this run started
 *   npm run demo -- --keep   leave the stack running to explore the Web UI
 */
import { Command } from 'commander';
import { StackError, down, status, up } from './stack/index';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(options: { keep?: boolean }): Promise<number> {
  const started = Date.now();
  const result = await up();
  const report = await status();
  console.log('\nLocal stack:');
  for (const server of report.servers) {
    console.log(`  ${server.healthy ? 'ok  ' : 'FAIL'} ${server.title.padEnd(30)} ${server.urls.join(', ')}`);
  }
  console.log(`  versions: ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  console.log(`\nTemporal Web UI: ${result.settings.TEMPORAL_UI_URL}`);
  console.log(`Settings for every command: .stack/stack.env (override in .env)`);
  console.log('The Salesforce sync is not part of this version yet: the demo stops at a healthy stack.');
  const healthy = report.servers.every((s) => s.healthy);

  if (options.keep) {
    console.log('\n--keep: the stack stays up. Stop it with `npm run stack -- down`.');
  } else if (result.started.length > 0) {
    console.log('\nStopping what this demo started (use --keep to leave it running) ...');
    await down({ log: () => undefined });
  }
  console.log(`\nDemo ${healthy ? 'finished' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return healthy ? 0 : 1;
}

new Command('demo')
  .description('bring up the local stack and show it is healthy')
  .option('--keep', 'leave the stack running afterwards')
  .action(async (options: { keep?: boolean }) => {
    try {
      process.exitCode = await main(options);
    } catch (error) {
      console.error(error instanceof StackError ? `\n${error.message}` : error);
      process.exitCode = 1;
    }
  })
  .parseAsync(process.argv);
