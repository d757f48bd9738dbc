/**
 * `npm run check [-- --json]`: the preflight. Logs in to Salesforce and describes one object, reads
 * the catalog configuration, checks the warehouse and the namespace, writes, reads and deletes a
 * probe object in the warehouse's storage, and connects to Temporal. One line per check with what
 * to fix; exit code 1 if any check failed (a warning, such as fields the integration user cannot
 * see, does not fail it). Secrets never appear in the output.
 */
import { Command } from 'commander';
import { EnvFileError, loadSettings } from '../src/config/env-file';
import { formatResult, preflightFailed, type CheckResult } from '../src/preflight/checks';
import { preflight } from '../worker/preflight';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

new Command('check')
  .description('check the settings and every service a sync needs, one line per check')
  .option('--json', 'print the results as JSON')
  .option('--timeout <seconds>', 'time limit of each check (default PREFLIGHT_TIMEOUT_SECONDS, 10)', (v) => Number(v))
  .action(async (opts: { json?: boolean; timeout?: number }) => {
    let env: Record<string, string>;
    try {
      env = loadSettings();
    } catch (error) {
      if (!(error instanceof EnvFileError)) throw error;
      const result: CheckResult = {
        name: 'settings',
        status: 'problem',
        message: error.message.replace(/\n/g, '; '),
        fix: 'fix the lines named (NAME=value, quotes closed)',
        ms: 0,
      };
      console.log(opts.json ? JSON.stringify({ ok: false, checks: [result] }, null, 2) : formatResult(result));
      process.exit(1);
    }
    // `npm run check` also looks for fields the integration user cannot see (a starting worker does not).
    const results = await preflight(env, opts.json ? undefined : (r) => console.log(formatResult(r)), opts.timeout ? opts.timeout * 1000 : undefined, { hiddenFields: true });
    const failed = preflightFailed(results);
    if (opts.json) console.log(JSON.stringify({ ok: !failed, checks: results }, null, 2));
    else {
      const warned = results.filter((r) => r.status === 'warning').length;
      const warnings = warned ? ` (${warned} with a warning: see WARN)` : '';
      console.log(failed ? `\n${results.filter((r) => r.status === 'problem').length} of ${results.length} checks failed${warnings}.` : `\nAll checks passed${warnings}.`);
    }
    // Exit now: nothing a check left behind (a socket, a timer) may keep the process alive.
    process.exit(failed ? 1 : 0);
  })
  .parseAsync(process.argv)
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
