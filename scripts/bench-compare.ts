/**
 * `npm run bench -- compare [--rows N] [--rounds R] --dlt-source DIR`: this project's sync beside
 * the pipeline it replaces and dlt's own Iceberg route, on the same machine, local stack and
 * Salesforce simulator, Account only, R rounds back to back; medians. The last line is JSON
 * ({"bench":"compare","rows":...,"rounds":...,"pipelines":[{"name":...,"rows_per_s":...},...]}).
 *
 * - sf-iceberg: the sync as `npm run bench` runs it (its own simulator, a worker process, Temporal).
 * - dlt+pyiceberg: dlt's Salesforce verified source and a custom dlt destination appending each
 *   batch (1,000 rows) to an Iceberg table through pyiceberg's REST catalog: the original pipeline.
 * - dlt filesystem iceberg: dlt's filesystem destination on the stack's S3 with
 *   table_format="iceberg", its catalog the stack's REST catalog.
 *
 * The Python side is scripts/compare/dlt_pipelines.py, run in a virtualenv of its own
 * (scripts/compare/requirements.txt) created under the cache folder on the first run. dlt's
 * Salesforce source is not part of this repository: --dlt-source names the folder holding its
 * `salesforce` package (`dlt init salesforce duckdb` writes one; so does a clone of
 * dlt-hub/verified-sources, under sources/).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir } from './stack/paths';
import { findPython } from './stack/toolchain';
import { type ComparePipeline, type CompareRun, perMillionRows, summarize, thousands } from './compare/summary';

const compareDir = path.join(__dirname, 'compare');
const requirements = path.join(compareDir, 'requirements.txt');
export const compareVenv = path.join(cacheDir, 'compare-venv');

/** What bench.ts lends: its sync measurement, its simulator start and the stack's `up`. */
export interface CompareDeps {
  benchSync: (opts: { counts: Record<string, number>; label: string; pageRecords: number; keep: boolean; ceiling?: boolean }) => Promise<{
    rows: number;
    wall_s: number;
    rows_per_s: number;
    worker_peak_rss_mb: number;
    worker_cpu_s_per_million_rows: number | null;
    snapshots_created: number;
    parquet_files: number;
  }>;
  startSimulator: (rows: string) => Promise<{ url: string; stop: () => void }>;
  up: () => Promise<void>;
  settings: () => Record<string, string | undefined>;
  simUser: { username: string; password: string; securityToken: string };
}

export const PIPELINES = ['sf-iceberg', 'dlt-pyiceberg', 'dlt-filesystem'] as const;
export type PipelineKey = (typeof PIPELINES)[number];

export interface CompareOptions {
  rows: number;
  rounds: number;
  batchSize: number;
  dltSource?: string;
  pipelines: PipelineKey[];
  keep: boolean;
}

/** The folder holding dlt's `salesforce` package, or an error that says how to get it. */
export function dltSourceDir(dir: string | undefined): string {
  const how =
    "dlt's Salesforce source is not part of this repository. Get it with `dlt init salesforce duckdb` (in an empty folder: it writes salesforce/) or a clone of github.com/dlt-hub/verified-sources (its sources/ folder), then pass --dlt-source <the folder that holds salesforce/> (or set DLT_SALESFORCE_SOURCE).";
  if (!dir) throw new Error(`--dlt-source is missing. ${how}`);
  const resolved = path.resolve(dir);
  if (fs.existsSync(path.join(resolved, 'salesforce', '__init__.py'))) return resolved;
  if (fs.existsSync(path.join(resolved, '__init__.py')) && path.basename(resolved) === 'salesforce') return path.dirname(resolved);
  throw new Error(`no dlt Salesforce source in ${resolved} (no salesforce/__init__.py there). ${how}`);
}

function requirementsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex');
}

function run(command: string, args: string[], log: string): Promise<void> {
  const fd = fs.openSync(log, 'w');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
      reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}); log: ${log}\n${tail}`));
    });
  }).finally(() => fs.closeSync(fd));
}

/** The compare virtualenv's python: created (or updated when requirements.txt changed) on demand. */
export async function ensureCompareVenv(): Promise<string> {
  const python = path.join(compareVenv, 'bin', 'python');
  const stamp = path.join(compareVenv, '.requirements.sha256');
  const hash = requirementsHash();
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === hash) return python;
  const system = findPython();
  if (!system) throw new Error('Python 3.9+ with the venv module is needed for the dlt pipelines: install python3 and python3-venv.');
  console.error(`compare: first run: installing dlt, pyiceberg and simple-salesforce (${path.relative(process.cwd(), requirements)}) into ${compareVenv} (once; a minute or two)`);
  fs.mkdirSync(path.join(cacheDir, 'logs'), { recursive: true });
  if (!fs.existsSync(python)) await run(system, ['-m', 'venv', compareVenv], path.join(cacheDir, 'logs', 'compare-venv.log'));
  await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements], path.join(cacheDir, 'logs', 'compare-pip.log'));
  fs.writeFileSync(stamp, hash);
  return python;
}

interface PythonFigures {
  mode: string;
  rows: number;
  expected_rows: number;
  run_s: number;
  process_s: number;
  /** User + system CPU of the Python process and its children over run_s. */
  run_cpu_s: number;
  snapshots: number;
  snapshots_in_metadata: number;
  data_files: number;
  peak_rss_mb: number;
  versions: Record<string, string>;
}

/** One dlt pipeline in its own Python process; its figures are the last line it prints. */
function runDlt(python: string, mode: 'pyiceberg-batches' | 'filesystem-iceberg', env: Record<string, string>): Promise<PythonFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(compareDir, 'dlt_pipelines.py'), mode], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last) as PythonFigures);
      reject(new Error(`${mode} failed (exit ${code}):\n${err.trim().split('\n').slice(-15).join('\n')}\n${last}`));
    });
  });
}

export async function benchCompare(opts: CompareOptions, deps: CompareDeps): Promise<void> {
  const wantsDlt = opts.pipelines.some((p) => p !== 'sf-iceberg');
  // Everything that can fail at once fails before anything long starts.
  const sourceDir = wantsDlt ? dltSourceDir(opts.dltSource) : undefined;
  const python = wantsDlt ? await ensureCompareVenv() : undefined;
  await deps.up();
  const settings = deps.settings();
  const runs: Record<PipelineKey, CompareRun[]> = { 'sf-iceberg': [], 'dlt-pyiceberg': [], 'dlt-filesystem': [] };
  let versions: Record<string, string> = {};
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-iceberg-compare-'));
  const stamp = Date.now().toString(36);
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.pipelines.includes('sf-iceberg')) {
        const f = await deps.benchSync({ counts: { Account: opts.rows }, label: `compare-${opts.rows}-r${round}`, pageRecords: 50_000, keep: opts.keep, ceiling: false });
        runs['sf-iceberg'].push({
          rows: f.rows,
          run_s: f.wall_s,
          rows_per_s: f.rows_per_s,
          peak_rss_mb: f.worker_peak_rss_mb,
          cpu_s_per_million_rows: f.worker_cpu_s_per_million_rows,
          snapshots: f.snapshots_created,
          data_files: f.parquet_files,
        });
        console.log(
          `round ${round}: sf-iceberg ${f.rows} rows in ${f.wall_s} s (${f.rows_per_s} rows/s), worker CPU ${f.worker_cpu_s_per_million_rows} s per million rows, peak RSS ${f.worker_peak_rss_mb} MB, ${f.snapshots_created} snapshot(s)`,
        );
      }
      if (!wantsDlt) continue;
      // A simulator of its own for the Python pipelines, as the sync's run has. Logo__c (base64)
      // goes: Bulk queries cannot select base64 fields (the sync leaves them out by default; dlt's
      // source selects every field and would fail), so all three read the same columns.
      const sim = await deps.startSimulator(`Account=${opts.rows}`);
      try {
        const removed = await fetch(`${sim.url}/__sim/remove-field`, { method: 'POST', body: JSON.stringify({ object: 'Account', field: 'Logo__c' }) });
        if (!removed.ok) throw new Error(`the simulator did not remove Account.Logo__c: ${await removed.text()}`);
        const env = (namespace: string): Record<string, string> => ({
          SIM_URL: sim.url,
          SF_USER_NAME: deps.simUser.username,
          SF_PASSWORD: deps.simUser.password,
          SF_SECURITY_TOKEN: deps.simUser.securityToken,
          DLT_SOURCE_DIR: sourceDir!,
          NAMESPACE: namespace,
          EXPECTED_ROWS: String(opts.rows),
          BATCH_SIZE: String(opts.batchSize),
          WORK_DIR: path.join(work, namespace),
          KEEP: opts.keep ? '1' : '0',
          ...(Object.fromEntries(
            ['ICEBERG_CATALOG_URI', 'ICEBERG_WAREHOUSE', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION', 'S3_PATH_STYLE', 'S3_BUCKET']
              .filter((k) => settings[k] !== undefined)
              .map((k) => [k, settings[k]!]),
          ) as Record<string, string>),
        });
        const modes = [
          ['dlt-pyiceberg', 'pyiceberg-batches'],
          ['dlt-filesystem', 'filesystem-iceberg'],
        ] as const;
        for (const [key, mode] of modes) {
          if (!opts.pipelines.includes(key)) continue;
          const f = await runDlt(python!, mode, env(`compare_${key.replace('-', '_')}_${stamp}_r${round}`));
          versions = f.versions;
          const r: CompareRun = {
            rows: f.rows,
            run_s: f.run_s,
            rows_per_s: Math.round(f.rows / f.run_s),
            peak_rss_mb: f.peak_rss_mb,
            cpu_s_per_million_rows: perMillionRows(f.run_cpu_s, f.rows),
            snapshots: f.snapshots,
            data_files: f.data_files,
          };
          runs[key].push(r);
          console.log(
            `round ${round}: ${key} ${f.rows} rows in ${f.run_s} s (${r.rows_per_s} rows/s; process ${f.process_s} s), CPU ${r.cpu_s_per_million_rows} s per million rows, peak RSS ${f.peak_rss_mb} MB, ${f.snapshots} snapshot(s), ${f.data_files} data file(s)`,
          );
        }
      } finally {
        sim.stop();
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const names: Record<PipelineKey, string> = {
    'sf-iceberg': 'sf-iceberg',
    'dlt-pyiceberg': `dlt+pyiceberg (${thousands(opts.batchSize)}-row batches)`,
    'dlt-filesystem': 'dlt filesystem iceberg (REST catalog)',
  };
  const pipelines: ComparePipeline[] = opts.pipelines.map((k) => summarize(names[k], runs[k]));
  console.log(
    JSON.stringify({
      bench: 'compare',
      rows: opts.rows,
      rounds: opts.rounds,
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      cpus: os.cpus().length,
      python_versions: versions,
      pipelines,
    }),
  );
}
