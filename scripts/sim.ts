/**
 * `npm run sim [-- --port 8765 --rows Account=100000,Contact=5000 --objects 200]`: the Salesforce
 * simulator on 127.0.0.1, for local debugging and for people with no org at hand. Prints how to connect.
 */
import { Command } from 'commander';
import { GENERATED_DEFAULTS, simObjects } from '../src/salesforce-sim/objects';
import { SIM_DEFAULTS, SalesforceSimulator } from '../src/salesforce-sim/server';

/** "100-300" → [100, 300] (a single number is both ends). */
function range(text: string): [number, number] {
  const [lo, hi = lo] = text.split('-').map((x) => Number(x.replace(/_/g, '')));
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 0 || hi! < lo!) throw new Error(`not a range of whole numbers such as 50-2000: ${text}`);
  return [lo!, hi!];
}
const shown = ([lo, hi]: readonly number[]) => `${lo}-${hi}`;

new Command('sim')
  .description('run the Salesforce simulator on 127.0.0.1')
  .option('--port <n>', 'port (default: any free one)', (v) => Number(v), 0)
  .option('--public-url <url>', 'instance URL the org reports (default: its own address)')
  .option('--rows <list>', 'rows per object, e.g. Account=100000,Contact=5000', '')
  .option('--objects <n>', `objects in the org in all: the ${simObjects().length} fixed ones and generated ones up to n (an org of many objects)`, (v) => Number(v))
  .option('--generated-objects <n>', 'objects generated beside the fixed ones (instead of --objects)', (v) => Number(v))
  .option('--object-fields <min-max>', 'fields of each generated object', shown(GENERATED_DEFAULTS.fields))
  .option('--small-rows <min-max>', 'rows of each small generated object', shown(GENERATED_DEFAULTS.smallRows))
  .option('--large-objects <n>', 'how many generated objects are large', (v) => Number(v), GENERATED_DEFAULTS.largeObjects)
  .option('--large-rows <min-max>', 'rows of each large generated object', shown(GENERATED_DEFAULTS.largeRows))
  .option('--no-gzip', 'never compress Bulk results (on 127.0.0.1 compression only costs CPU)')
  .option('--bulk-queue-ms <ms>', "time a Bulk query job waits in Salesforce's queue before it runs (default SIM_BULK_QUEUE_MS, else 5000)", (v) => Number(v))
  .option('--page-cache', 'render each Bulk results page once and serve it from disk after that (benchmarks; changes to the org are not seen in cached pages)')
  .action(
    async (opts: {
      port: number;
      publicUrl?: string;
      rows: string;
      objects?: number;
      generatedObjects?: number;
      objectFields: string;
      smallRows: string;
      largeObjects: number;
      largeRows: string;
      gzip: boolean;
      pageCache?: boolean;
      bulkQueueMs?: number;
    }) => {
      const rowCounts = Object.fromEntries(
        opts.rows
          .split(',')
          .filter(Boolean)
          .map((kv) => kv.split('='))
          .map(([k, v]) => [k!, Number(v)]),
      );
      const generated = opts.generatedObjects ?? Math.max(0, (opts.objects ?? 0) - simObjects().length);
      const sim = new SalesforceSimulator({
        port: opts.port,
        publicUrl: opts.publicUrl,
        rowCounts,
        gzip: opts.gzip,
        pageCache: opts.pageCache,
        bulkQueueMs: opts.bulkQueueMs,
        generatedObjects: {
          objects: generated,
          fields: range(opts.objectFields),
          smallRows: range(opts.smallRows),
          largeObjects: opts.largeObjects,
          largeRows: range(opts.largeRows),
        },
      });
      const url = await sim.start();
      console.log(`Salesforce simulator on ${url}`);
      console.log(`  Bulk query jobs wait ${sim.bulkQueueMs} ms in the queue before they run (--bulk-queue-ms)`);
      const all = [...sim.org.objects.values()];
      if (all.length > 40) {
        const rows = all.reduce((n, o) => n + sim.org.count(o.name), 0);
        const largest = [...all].sort((a, b) => sim.org.count(b.name) - sim.org.count(a.name)).slice(0, 5);
        console.log(`  objects: ${all.length} (${generated} generated), ${rows} rows; the largest ${largest.map((o) => `${o.name} (${sim.org.count(o.name)})`).join(', ')}`);
      } else console.log(`  objects: ${all.map((o) => `${o.name} (${sim.org.count(o.name)})`).join(', ')}`);
      console.log(`  SOAP login ${url}/services/Soap/u/62.0  user ${SIM_DEFAULTS.user.username}  password ${SIM_DEFAULTS.user.password}  token ${SIM_DEFAULTS.user.securityToken}`);
      console.log(`  OAuth2 ${url}/services/oauth2/token  client ${SIM_DEFAULTS.client.clientId} / ${SIM_DEFAULTS.client.clientSecret}`);
      const stop = () => sim.stop().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
  )
  .parseAsync(process.argv);
