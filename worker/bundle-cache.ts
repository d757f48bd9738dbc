/**
 * Where the worker's workflow bundle lives. It used to be a temp file per process
 * (`<tmp>/sf-iceberg-workflows-<pid>-<uuid>.js`, 1.6 MB) removed at exit, so every worker killed
 * with SIGKILL left one behind, and every start paid for a webpack run. Now the bundle is a cache
 * entry named by a hash of everything that can change it (the workflow code and the src/ it may
 * import, the bundling script, the locked dependency versions): a worker reuses it when present,
 * builds it otherwise, and writes it atomically (temp file + rename), so workers starting together
 * never see half a file. Killing a worker leaves nothing behind: there is nothing per process.
 *
 * Why a hash-keyed cache rather than removing stale per-process files at start: nothing is left
 * to remove, the file a killed worker used is the one the next worker needs, and starts skip
 * bundling (seconds of CPU) when the code has not changed. The hash covers more than webpack
 * reads (all of src/, not only what workflows/ imports): a change there costs one rebuild, never a
 * stale bundle.
 *
 * Old entries (other hashes) not used for a day, or beyond the eight most recently used, are
 * removed at start, and so are the per-process files older versions left in the temp folder whose
 * process is gone.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..');

/** A bundle not used for this long (by a worker of another code version) is removed. */
export const STALE_MS = 24 * 3600_000;
/**
 * At most this many bundles are kept (the most recently used); beyond them, one not used for
 * `BUSY_MS` goes too. Editing src/ while developing makes a new entry per edit.
 */
export const MAX_BUNDLES = 8;
const BUSY_MS = 10 * 60_000;

/** Files whose content decides the bundle, relative to the repository root. */
export function bundleInputs(base = root): string[] {
  const walk = (dir: string): string[] =>
    fs.existsSync(path.join(base, dir))
      ? fs
          .readdirSync(path.join(base, dir), { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.(ts|js|mjs|cjs|json)$/.test(e.name) ? [path.join(dir, e.name)] : []))
      : [];
  // Workflow code imports activities/ for the signal and search attribute definitions.
  const files = [...walk('workflows'), ...walk('activities'), ...walk('src'), path.join('worker', 'bundle.ts'), 'package.json', 'package-lock.json'];
  return files.filter((f) => fs.existsSync(path.join(base, f))).sort();
}

/** Hash of the bundle's inputs (names and contents): the cache key. */
export function workflowSourceHash(base = root): string {
  const hash = crypto.createHash('sha256');
  for (const file of bundleInputs(base)) {
    hash.update(`${file.split(path.sep).join('/')}\0`);
    hash.update(fs.readFileSync(path.join(base, file)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * The cache folder: `<SF_ICEBERG_CACHE or XDG_CACHE_HOME/sf-iceberg or ~/.cache/sf-iceberg>/workflow-bundles`,
 * or, when that cannot be written (a read-only home), a folder of this user's own in the temp
 * folder (mode 700, checked to be ours: a bundle is code the worker runs).
 */
export function bundleCacheDir(env: Record<string, string | undefined> = process.env): string {
  const cache = env.SF_ICEBERG_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'sf-iceberg');
  const preferred = path.join(cache, 'workflow-bundles');
  try {
    fs.mkdirSync(preferred, { recursive: true });
    fs.accessSync(preferred, fs.constants.W_OK);
    return preferred;
  } catch {
    const own = path.join(os.tmpdir(), `sf-iceberg-${os.userInfo().uid}`);
    fs.mkdirSync(own, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(own);
    if (!stat.isDirectory() || (process.getuid && stat.uid !== process.getuid()) || (stat.mode & 0o022) !== 0) {
      throw new Error(`cannot keep the workflow bundle: ${preferred} is not writable and ${own} is not a private folder of this user (set SF_ICEBERG_CACHE)`);
    }
    const dir = path.join(own, 'workflow-bundles');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/**
 * The bundle for `hash` in `dir`: reused when present (its time is touched, so pruning sees it in
 * use), else built by `build(tempFile)` and renamed into place. Then stale entries are pruned.
 */
export async function cachedWorkflowBundle(opts: { dir: string; hash: string; build: (out: string) => Promise<void>; now?: number }): Promise<{ path: string; built: boolean }> {
  const file = path.join(opts.dir, `workflows-${opts.hash}.js`);
  let built = false;
  if (fs.existsSync(file)) {
    const now = new Date(opts.now ?? Date.now());
    fs.utimesSync(file, now, now);
  } else {
    const temp = `${file}.${process.pid}-${crypto.randomUUID()}.tmp`;
    try {
      await opts.build(temp);
      fs.renameSync(temp, file);
      built = true;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  pruneBundles(opts.dir, file, opts.now);
  return { path: file, built };
}

/**
 * Removes other bundles and temp files in `dir` not touched for `STALE_MS`, and, beyond the
 * `MAX_BUNDLES` most recently used, those not touched for ten minutes (a worker of another version
 * reads its bundle within a second of touching it, so none is removed under it).
 */
export function pruneBundles(dir: string, keep: string, now = Date.now()): string[] {
  const entries: { file: string; age: number; bundle: boolean }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const m = /^workflows-[0-9a-f]+\.js(\..*\.tmp)?$/.exec(name);
    if (file === keep || !m) continue;
    try {
      entries.push({ file, age: now - fs.statSync(file).mtimeMs, bundle: m[1] === undefined });
    } catch {
      // Removed by another worker meanwhile.
    }
  }
  const recent = entries
    .filter((e) => e.bundle)
    .sort((a, b) => a.age - b.age)
    .slice(0, MAX_BUNDLES - 1);
  const removed: string[] = [];
  for (const e of entries) {
    if (e.age > STALE_MS || (e.age > BUSY_MS && !recent.includes(e))) {
      fs.rmSync(e.file, { force: true });
      removed.push(e.file);
    }
  }
  return removed;
}

/**
 * Removes the per-process bundles older versions wrote to the temp folder
 * (`sf-iceberg-workflows-<pid>-<uuid>.js`, and their `.tmp`) whose process no longer runs.
 */
export function removeLegacyBundles(dir = os.tmpdir(), alive: (pid: number) => boolean = processAlive): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^sf-iceberg-workflows-(\d+)-[0-9a-f-]{36}\.js(\.tmp)?$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      const file = path.join(dir, name);
      if (process.getuid && fs.lstatSync(file).uid !== process.getuid()) continue;
      fs.rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // Gone already.
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
