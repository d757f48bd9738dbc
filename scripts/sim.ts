/**
 * `npm run sim [-- --port 8765 --rows Account=100000,Contact=5000]`: the Salesforce simulator on
 * 127.0.0.1, for local debugging and for people with no org at hand. Prints how to connect.
 */
import { Command } from 'commander';
import { SIM_DEFAULTS, SalesforceSimulator } from '../src/salesforce-sim/server';

new Command('sim')
  .description('run the Salesforce simulator on 127.0.0.1')
  .option('--port <n>', 'port (default: any free one)', (v) => Number(v), 0)
  .option('--public-url <url>', 'instance URL the org reports (default: its own address)')
  .option('--rows <list>', 'rows per object, e.g. Account=100000,Contact=5000', '')
  .option('--no-gzip', 'never compress Bulk results (on 127.0.0.1 compression only costs CPU)')
  .option('--bulk-queue-ms <ms>', "time a Bulk query job waits in Salesforce's queue before it runs (default SIM_BULK_QUEUE_MS, else 5000)", (v) => Number(v))
  .option('--page-cache', 'render each Bulk results page once and serve it from disk after that (benchmarks; changes to the org are not seen in cached pages)')
  .action(async (opts: { port: number; publicUrl?: string; rows: string; gzip: boolean; pageCache?: boolean; bulkQueueMs?: number }) => {
    const rowCounts = Object.fromEntries(
      opts.rows
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('='))
        .map(([k, v]) => [k!, Number(v)]),
    );
    const sim = new SalesforceSimulator({ port: opts.port, publicUrl: opts.publicUrl, rowCounts, gzip: opts.gzip, pageCache: opts.pageCache, bulkQueueMs: opts.bulkQueueMs });
    const url = await sim.start();
    console.log(`Salesforce simulator on ${url}`);
    console.log(`  Bulk query jobs wait ${sim.bulkQueueMs} ms in the queue before they run (--bulk-queue-ms)`);
    console.log(`  objects: ${[...sim.org.objects.values()].map((o) => `${o.name} (${sim.org.count(o.name)})`).join(', ')}`);
    console.log(`  SOAP login ${url}/services/Soap/u/62.0  user ${SIM_DEFAULTS.user.username}  password ${SIM_DEFAULTS.user.password}  token ${SIM_DEFAULTS.user.securityToken}`);
    console.log(`  OAuth2 ${url}/services/oauth2/token  client ${SIM_DEFAULTS.client.clientId} / ${SIM_DEFAULTS.client.clientSecret}`);
    const stop = () => sim.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  })
  .parseAsync(process.argv);
