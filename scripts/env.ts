/** `npm run env -- [salesforce|iceberg|temporal|sync|all]`: every setting, its meaning, default, auth method and current value (secrets hidden). */
import { Command } from 'commander';
import { loadSettings } from '../src/config/env-file';
import { SETTINGS, shown } from '../src/config/reference';

new Command('env')
  .argument('[group]', 'salesforce, iceberg, temporal, sync or all', 'all')
  .action((group: string) => {
    const groups = ['salesforce', 'iceberg', 'temporal', 'sync'];
    if (group !== 'all' && !groups.includes(group)) {
      console.error(`Unknown group ${group}: use ${groups.join(', ')} or all.`);
      process.exit(1);
    }
    const env = loadSettings();
    for (const g of groups.filter((x) => group === 'all' || x === group)) {
      console.log(`\n[${g}]`);
      for (const s of SETTINGS.filter((x) => x.group === g)) {
        console.log(`${s.name}\n    ${s.description}${s.default ? `; default ${s.default}` : ''}${s.methods ? `; auth: ${s.methods.join(', ')}` : ''}\n    now: ${shown(s, env[s.name])}`);
      }
    }
  })
  .parse(process.argv);
