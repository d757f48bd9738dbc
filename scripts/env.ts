/**
 * `npm run env -- [salesforce|iceberg|temporal|sync|input|all]`: every setting, its meaning,
 * default, auth method and current value (secrets hidden), then what is wrong with the current
 * settings; `input` is the reference of salesforceSync's input (`--markdown`: the README's table).
 */
import { Command } from 'commander';
import { loadSettings } from '../src/config/env-file';
import { shown } from '../src/settings/reference';
import { SETTINGS, settingsProblems } from '../src/settings/settings';
import { inputReferenceMarkdown, inputReferenceText } from '../workflows/input';

new Command('env')
  .argument('[group]', 'salesforce, iceberg, temporal, sync, input (the workflow input) or all', 'all')
  .option('--markdown', "with input: the reference as the README's Markdown table")
  .action((group: string, opts: { markdown?: boolean }) => {
    const groups = ['salesforce', 'iceberg', 'temporal', 'sync'];
    if (group !== 'all' && group !== 'input' && !groups.includes(group)) {
      console.error(`Unknown group ${group}: use ${groups.join(', ')}, input or all.`);
      process.exit(1);
    }
    if (group === 'input') {
      console.log(opts.markdown ? inputReferenceMarkdown() : inputReferenceText());
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
    for (const g of groups.filter((x) => group === 'all' || x === group)) {
      console.log(`\n[${g}]`);
      for (const s of SETTINGS.filter((x) => x.group === g)) {
        console.log(
          `${s.name}\n    ${s.description}${s.default ? `; default ${s.default}` : ''}${s.methods ? `; auth: ${s.methods.join(', ')}` : ''}\n    now: ${shown(s, env[s.name])}`,
        );
      }
    }
    if (group === 'all') console.log(`\n[input]\n${inputReferenceText()}`);
    const problems = [...(fileError ? [fileError] : []), ...(group === 'all' ? settingsProblems(env) : [])];
    if (problems.length > 0) console.log(`\nProblems with the current settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  })
  .parse(process.argv);
