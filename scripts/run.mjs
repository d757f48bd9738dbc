#!/usr/bin/env node
// Every npm script's entry: `node scripts/run.mjs <file.ts> [args...]`. Plain Node (no
// dependencies) because it runs before anything is installed: it installs the locked npm
// dependencies when they are missing or stale, then runs the TypeScript file in this same process
// through tsx (so signals and the pid are the program's own, not a wrapper's).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class BootstrapError extends Error {}

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 3)) {
    throw new BootstrapError(`Node.js 20.3 or newer is needed (this is ${process.version}): install it from https://nodejs.org/.`);
  }
}

/**
 * Installs the locked dependency tree when package-lock.json differs from what was last installed.
 * `npm install`, not `npm ci`: registries that serve only some platforms' optional packages (e.g.
 * no darwin builds of @swc/core) leave them out of the lockfile, and `npm ci` rejects such a lock.
 * With a lockfile present `npm install` installs exactly the locked versions. Progress goes to
 * stderr so a command's JSON output on stdout stays clean.
 */
export function ensureDependencies() {
  checkNode();
  const lockText = fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8');
  const stamp = path.join(root, 'node_modules', '.sf-iceberg-lock');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === lockText) return;
  process.stderr.write('Installing the locked npm dependencies (npm install; first run only) ...\n');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
  if (result.error || result.status !== 0) {
    throw new BootstrapError(`npm install failed (${result.error?.message ?? `exit ${result.status}`}); run \`npm install\` in ${root} and try again.`);
  }
  // npm may have completed the lockfile (optional packages of other platforms): stamp what is there now.
  fs.writeFileSync(stamp, fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
}

async function main() {
  const [script, ...args] = process.argv.slice(2);
  if (!script) throw new BootstrapError('usage: node scripts/run.mjs <file.ts> [args...]');
  ensureDependencies();
  const file = path.resolve(root, script);
  // What the program sees is what `node file.ts args...` would show it (commander reads argv).
  process.argv = [process.argv[0], file, ...args];
  // tsx's CommonJS hook, not its ESM loader: the loader runs on a thread of its own (a second V8
  // isolate, ~40 MB of resident memory in every worker); the code is CommonJS anyway, and Node
  // loads the few ESM-only dependencies through require().
  const require = createRequire(import.meta.url);
  require(path.join(root, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs'));
  require(file);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof BootstrapError ? error.message : error);
    process.exitCode = 1;
  });
}
