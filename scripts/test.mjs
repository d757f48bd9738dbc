#!/usr/bin/env node
// `npm test`: everything the tests need, from a fresh clone. Plain Node (no dependencies) because it
// runs before anything is installed. Steps: the locked npm dependencies (scripts/run.mjs), the
// stack's servers installed (cached), Chromium for the Web UI test, a type check, the unit tests
// (no server, files side by side), the orchestration tests (a Temporal dev server of each file's
// own), the local stack up, the integration tests, and the stack stopped again if this run started
// it. Extra arguments go to vitest (e.g. a file filter) and run against the stack.
//
// `--unit` (npm run test:unit): the unit tests at once, with nothing installed but npm's packages,
// then the orchestration tests, for which only the Temporal CLI is installed (cached); vitest
// arguments after `--unit` (e.g. a file filter) apply to both. The layers: vitest.config.mts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootstrapError, ensureDependencies, root } from './run.mjs';
import { ORCHESTRATION_TESTS } from './test-layers.mjs';

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
  step('apt-get install chromium (for the Web UI test)');
  const quiet = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Package lists may be missing on a fresh machine: update once and try again. A failure is
  // reported, not fatal: the other tests still run and the Web UI test says what is missing.
  if (run('apt-get', ['install', '-y', '-q', 'chromium'], { env: quiet }) === 0) return;
  if (run('apt-get', ['update', '-q'], { env: quiet }) !== 0 || run('apt-get', ['install', '-y', '-q', 'chromium'], { env: quiet }) !== 0) {
    console.log('Could not install chromium with apt-get: the Web UI test will fail.');
  }
}

/**
 * The unit files side by side, each in a process of its own, one more process than cores (a file
 * often waits on child processes, threads or files). (Processes reused from file to file, vitest's
 * --no-isolate, saved no measurable CPU time here, and vitest's pool then fails when it stops an
 * idle one.)
 */
const unitWorkers = String(Math.max(2, (os.availableParallelism?.() ?? os.cpus().length) + 1));
const unitArgs = ['--project', 'unit', '--fileParallelism', `--maxWorkers=${unitWorkers}`, `--minWorkers=${unitWorkers}`];

/** Runs vitest with a JSON report; returns its exit code and counts. */
function runTests(label, args) {
  const report = path.join(root, 'test-results', `vitest-${label}.json`);
  fs.mkdirSync(path.dirname(report), { recursive: true });
  fs.rmSync(report, { force: true });
  const code = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args]);
  if (!fs.existsSync(report)) throw new StepFailed(`The test runner wrote no report (${label}).`);
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  if (r.numTotalTests === 0 && !args.includes('--passWithNoTests')) throw new StepFailed(`No test ran (${label}).`);
  return { code, passed: r.numPassedTests, failed: r.numFailedTests, skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0) };
}

/** The closing 'N passed, N failed' line over every vitest run; the exit code of the worst. */
function summarise(results) {
  const sum = (k) => results.reduce((n, r) => n + r[k], 0);
  const skipped = sum('skipped');
  console.log(`\ntests: ${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return results.some((r) => r.code !== 0) ? 1 : 0;
}

const tsx = (file, ...args) => [process.execPath, ['--import', 'tsx', file, ...args]];

/** The orchestration tests start their own Temporal dev servers from the cached CLI: only it is installed. */
function installTemporalCli() {
  step('installing the Temporal CLI for the orchestration tests (cached after the first run)');
  must(...tsx('scripts/stack.ts', 'install', '--temporal-only'), 'Installing the Temporal CLI');
}

function main() {
  const args = process.argv.slice(2);
  const unitOnly = args[0] === '--unit';
  ensureDependencies();
  if (unitOnly) {
    // vitest's filters: parts of a file's path (options start with a dash).
    const filter = args.slice(1);
    const names = filter.filter((a) => !a.startsWith('-'));
    const unitFiles = fs
      .readdirSync(path.join(root, 'test', 'unit'), { recursive: true })
      .map((f) => `test/unit/${String(f).split(path.sep).join('/')}`)
      .filter((f) => f.endsWith('.test.ts') && !ORCHESTRATION_TESTS.includes(f));
    const selects = (files) => names.length === 0 || files.some((file) => names.some((n) => file.includes(n)));
    const unit = selects(unitFiles);
    const orchestration = selects(ORCHESTRATION_TESTS);
    const results = [];
    if (unit) {
      step('unit tests (no server; files side by side)');
      results.push(runTests('unit', [...unitArgs, ...filter, ...(names.length ? ['--passWithNoTests'] : [])]));
    }
    if (orchestration) {
      installTemporalCli();
      step('orchestration tests (a Temporal dev server of their own)');
      results.push(runTests('orchestration', ['--project', 'orchestration', ...filter, ...(names.length ? ['--passWithNoTests'] : [])]));
    }
    if (results.every((r) => r.passed + r.failed === 0)) throw new StepFailed(`No test ran${names.length ? ` (no file of test/unit matches ${names.join(', ')})` : ''}.`);
    return summarise(results);
  }
  // Nothing is started here: the orchestration tests start their own Temporal dev servers, and
  // the stack comes up after them. Both catalogs: test/integration/rest-catalog.test.ts brings up
  // the reference REST catalog.
  step('installing what the tests need (cached after the first run)');
  must(...tsx('scripts/stack.ts', 'install', '--catalog', 'both'), 'Installing the local stack');
  installChromium();
  step('type check');
  must(bin('tsc'), ['--noEmit', '-p', '.'], 'Type check');
  step('lint: import layers and formatting');
  must(process.execPath, [path.join(root, 'scripts', 'lint.mjs')], 'Lint (npm run lint)');
  const results = [];
  // With a filter, one run of whatever it selects; else the fast layer first, then what needs servers.
  if (args.length === 0) {
    step('unit tests (no server; files side by side)');
    results.push(runTests('unit', unitArgs));
    step('orchestration tests (a Temporal dev server of their own)');
    results.push(runTests('orchestration', ['--project', 'orchestration']));
  }
  step('local stack');
  // Leave the stack as we found it: stop it at the end only if this run started it.
  const wasUp = run(...tsx('scripts/stack.ts', 'status'), { stdio: 'ignore' }) === 0;
  try {
    must(...tsx('scripts/stack.ts', 'up', '--catalog', 'both'), 'Bringing up the local stack');
    step(args.length === 0 ? 'integration tests (real servers)' : `tests: ${args.join(' ')}`);
    results.push(runTests(args.length === 0 ? 'integration' : 'selected', args.length === 0 ? ['--project', 'integration'] : args));
    return summarise(results);
  } finally {
    if (!wasUp && process.env.KEEP_STACK !== '1') {
      step('stopping the local stack this run started (KEEP_STACK=1 keeps it)');
      run(...tsx('scripts/stack.ts', 'down'));
    }
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof StepFailed || error instanceof BootstrapError ? `\n${error.message}` : error);
  process.exitCode = 1;
} finally {
  console.log(`\n${process.argv[2] === '--unit' ? 'npm run test:unit' : 'npm test'} finished in ${Math.round((Date.now() - started) / 1000)} s`);
}
