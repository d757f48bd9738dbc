#!/usr/bin/env node
// `npm test`: everything the tests need, from a fresh clone. Plain Node (no dependencies) because it
// runs before `npm ci`. Steps: install npm dependencies when the lockfile changed, bring the local
// stack up (installing servers on first use), Chromium for the Web UI test, type-check, run unit + integration tests, and stop
// the stack again if this run started it. Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

class StepFailed extends Error {}

function step(title) {
  console.log(`\n=== ${title} (${Math.round((Date.now() - started) / 1000)} s) ===`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(command, args, what) {
  const code = run(command, args);
  if (code !== 0) throw new StepFailed(`${what} failed (exit ${code}).`);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 3)) {
    throw new StepFailed(`Node.js 20.3 or newer is needed (this is ${process.version}): install it from https://nodejs.org/.`);
  }
}

/**
 * Installs the locked dependency tree when package-lock.json differs from what was last installed.
 * `npm install`, not `npm ci`: registries that serve only some platforms' optional packages (e.g.
 * no darwin builds of @swc/core) leave them out of the lockfile, and `npm ci` rejects such a lock.
 * With a lockfile present `npm install` installs exactly the locked versions.
 */
function installDependencies() {
  const lockText = fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8');
  const stamp = path.join(root, 'node_modules', '.sf-iceberg-lock');
  const current = fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === lockText;
  if (current) return;
  step('npm install (locked versions)');
  must('npm', ['install', '--no-audit', '--no-fund'], 'npm install');
  fs.writeFileSync(stamp, lockText);
}

/**
 * The Web UI test drives Debian's Chromium (playwright-core never downloads a browser). Installed
 * with apt-get when missing and this runs as root (CI); otherwise the test says what to install.
 */
function installChromium() {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (fs.existsSync(chromium)) return;
  if (process.getuid?.() !== 0 || run('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }) !== 0) {
    console.log(`No Chromium at ${chromium}: the Web UI test will fail. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
    return;
  }
  step("apt-get install chromium (for the Web UI test)");
  const quiet = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Package lists may be missing on a fresh machine: update once and try again. A failure is
  // reported, not fatal: the other tests still run and the Web UI test says what is missing.
  if (run('apt-get', ['install', '-y', '-q', 'chromium'], { env: quiet }) === 0) return;
  if (run('apt-get', ['update', '-q'], { env: quiet }) !== 0 || run('apt-get', ['install', '-y', '-q', 'chromium'], { env: quiet }) !== 0) {
    console.log('Could not install chromium with apt-get: the Web UI test will fail.');
  }
}

/** Runs vitest with a JSON report and prints the closing 'N passed, N failed' line. */
function runTests(args) {
  const report = path.join(root, 'test-results', 'vitest.json');
  fs.mkdirSync(path.dirname(report), { recursive: true });
  fs.rmSync(report, { force: true });
  let code = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args]);
  if (!fs.existsSync(report)) throw new StepFailed('The test runner wrote no report.');
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (r.numTotalTests === 0) throw new StepFailed('No test ran.');
  return code;
}

function main() {
  checkNode();
  installDependencies();
  installChromium();

  step('local stack');
  // Leave the stack as we found it: stop it at the end only if this run started it.
  const wasUp = run(bin('tsx'), ['scripts/stack.ts', 'status'], { stdio: 'ignore' }) === 0;
  try {
    must(bin('tsx'), ['scripts/stack.ts', 'up'], 'Bringing up the local stack');
    step('type check');
    must(bin('tsc'), ['--noEmit', '-p', '.'], 'Type check');
    step('tests');
    return runTests(process.argv.slice(2));
  } finally {
    if (!wasUp && process.env.KEEP_STACK !== '1') {
      step('stopping the local stack this run started (KEEP_STACK=1 keeps it)');
      run(bin('tsx'), ['scripts/stack.ts', 'down']);
    }
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof StepFailed ? `\n${error.message}` : error);
  process.exitCode = 1;
} finally {
  console.log(`\nnpm test finished in ${Math.round((Date.now() - started) / 1000)} s`);
}
