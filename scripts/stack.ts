/**
 * `npm run stack -- up|down|status`: the local stack of real servers (Temporal dev server + Web UI,
 * MinIO, Nessie and/or Apache Iceberg's reference REST catalog) on 127.0.0.1, installed on first use
 * and cached outside the work tree.
 */
import { Command } from 'commander';

// The SDK's notice about future Node versions is noise in a dev tool's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { ensureInstalled } from './stack/install';
import { StackError, down, status, up } from './stack/index';
import { catalogChoice } from './stack/servers';

const catalogHelp =
  "Iceberg REST catalog(s): nessie, rest (Apache Iceberg's reference server), both, or lakekeeper (the binary in LAKEKEEPER_BIN, on PostgreSQL); default STACK_CATALOG, else nessie";

function fail(error: unknown): never {
  if (error instanceof StackError) console.error(`\n${error.message}`);
  else console.error(error);
  process.exit(1);
}

const program = new Command('stack').description("Run the local stack: Temporal dev server, MinIO and Nessie and/or Apache Iceberg's reference REST catalog on 127.0.0.1");

program
  .command('up')
  .description('install what is missing, start the servers, wait until healthy, write .stack/stack.env')
  .option('--no-readers', 'skip the Python virtualenv with pyiceberg and DuckDB')
  .option('--catalog <which>', catalogHelp)
  .option(
    '--credentials <mode>',
    'how the worker reaches storage: static (S3 keys in stack.env), vended (Nessie vends MinIO STS sessions) or signed (Nessie signs each request); default STACK_CREDENTIALS, else static',
  )
  .action(async (opts: { readers: boolean; catalog?: string; credentials?: string }) => {
    try {
      const started = Date.now();
      await up({ readers: opts.readers, catalog: opts.catalog, credentials: opts.credentials });
      console.log(`The local stack is up (${Math.round((Date.now() - started) / 1000)} s).`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('install')
  .description('install (build, fetch) what is missing without starting anything')
  .option('--no-readers', 'skip the Python virtualenv with pyiceberg and DuckDB')
  .option('--catalog <which>', catalogHelp)
  .option('--temporal-only', 'only the Temporal CLI (what the orchestration tests need)')
  .action(async (opts: { readers: boolean; catalog?: string; temporalOnly?: boolean }) => {
    try {
      await ensureInstalled({
        readers: opts.readers,
        restCatalog: ['rest', 'both'].includes(catalogChoice(opts.catalog)),
        temporalOnly: opts.temporalOnly,
        log: (line) => console.log(line),
      });
    } catch (error) {
      fail(error);
    }
  });

program
  .command('down')
  .description('stop the servers that `up` started (and nothing else)')
  .option('--purge', 'also delete their data (workflows, objects, tables) and settings')
  .action(async (opts: { purge?: boolean }) => {
    try {
      await down({ purge: opts.purge });
    } catch (error) {
      fail(error);
    }
  });

program
  .command('status')
  .description('show each server: pid, health, addresses, log; exit 1 unless all are healthy')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    try {
      const result = await status();
      if (opts.json) {
        console.log(JSON.stringify(result, null, 2));
      } else {
        for (const s of result.servers) {
          const state = s.healthy ? `healthy (pid ${s.pid})` : s.running ? `UNHEALTHY (pid ${s.pid}): ${s.problem}` : 'not running';
          console.log(`${s.title.padEnd(32)} ${state}`);
          if (s.running) console.log(`${''.padEnd(32)} ${s.urls.join(', ')}`);
          console.log(`${''.padEnd(32)} log: ${s.log}`);
        }
        console.log(
          `versions: ${Object.entries(result.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join('; ')}`,
        );
      }
      process.exitCode = result.servers.every((s) => s.healthy) ? 0 : 1;
    } catch (error) {
      fail(error);
    }
  });

program.parseAsync(process.argv).catch(fail);
