/**
 * `npm run env -- [<area>|settings|input|all]`: every setting, its meaning, default, auth method and
 * current value (secrets hidden), then what is wrong with the current settings; an area
 * (salesforce, iceberg, temporal, worker, sync, parquet, duckdb, maintenance, preflight) shows its
 * settings alone. `settings --markdown` is the README's settings reference and `input` the
 * reference of salesforceSync's input (`--markdown`: the README's table); neither reads the
 * environment.
 */
import { Command } from 'commander';
import { loadSettings } from '../src/config/env-file';
import { SETTINGS, settingGroups, settingsReferenceMarkdown, shown } from '../src/settings/reference';
import { settingsProblems } from '../src/settings/settings';
import { inputReferenceMarkdown, inputReferenceText } from '../workflows/input';

const groups = settingGroups();

new Command('env')
  .argument('[group]', `${groups.map((g) => g.group).join(', ')}, settings (every area), input (the workflow input) or all`, 'all')
  .option('--markdown', "with settings or input: the reference as the README's Markdown tables, without current values")
  .action((group: string, opts: { markdown?: boolean }) => {
    if (group !== 'all' && group !== 'input' && group !== 'settings' && !groups.some((g) => g.group === group)) {
      console.error(`Unknown group ${group}: use ${groups.map((g) => g.group).join(', ')}, settings, input or all.`);
      process.exit(1);
    }
    if (group === 'input') {
      console.log(opts.markdown ? inputReferenceMarkdown() : inputReferenceText());
      return;
    }
    if (opts.markdown) {
      if (group !== 'settings') {
        console.error('--markdown goes with settings or input: npm run env -- settings --markdown');
        process.exit(1);
      }
      console.log(settingsReferenceMarkdown());
      return;
    }
    let env: Record<string, string> = {};
    let fileError: string | undefined;
    try {
      env = loadSettings();
    } catch (error) {
      // A .env syntax error: the reference is still useful; the error is shown last.
      fileError = (error as Error).message;
      env = { ...process.env } as Record<string, string>;
    }
    const all = group === 'all' || group === 'settings';
    for (const { group: g, configures } of groups.filter((x) => all || x.group === group)) {
      console.log(`\n[${g}] ${configures}`);
      for (const s of SETTINGS.filter((x) => x.group === g)) {
        console.log(
          `${s.name}\n    ${s.description}${s.default ? `; default ${s.default}` : ''}${s.methods ? `; auth: ${s.methods.join(', ')}` : ''}\n    now: ${shown(s, env[s.name])}`,
        );
      }
    }
    if (group === 'all') console.log(`\n[input]\n${inputReferenceText()}`);
    const problems = [...(fileError ? [fileError] : []), ...(all ? settingsProblems(env) : [])];
    if (problems.length > 0) console.log(`\nProblems with the current settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  })
  .parse(process.argv);
