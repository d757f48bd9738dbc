/**
 * `npm run lint`: the import graph points one way (dependency-cruiser, rules in
 * .dependency-cruiser.cjs) and the code is formatted as prettier formats it (`npm run format`
 * fixes that). Run by `npm test` after the type check.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const checks = [
  ['import layers', bin('depcruise'), ['src', 'workflows', 'activities', 'worker', 'scripts', 'test', '--config', '.dependency-cruiser.cjs']],
  ['formatting', bin('prettier'), ['--check', '--log-level', 'warn', '.']],
];
let failed = 0;
for (const [what, command, args] of checks) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`lint: ${what} failed${what === 'formatting' ? ' (npm run format rewrites the files listed above)' : ''}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
