import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BUNDLES, STALE_MS, bundleCacheDir, cachedWorkflowBundle, pruneBundles, removeLegacyBundles, workflowSourceHash } from '../../worker/bundle-cache';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tree(): string {
  const base = fs.mkdtempSync(path.join(dir, 'repo-'));
  const files: Record<string, string> = {
    'workflows/index.ts': 'export async function syncObject() {}',
    'src/sync/objects.ts': 'export const DEFAULT_OBJECTS = [];',
    'activities/signals.ts': 'export const x = 0;',
    'worker/bundle.ts': '// bundler',
    'package.json': '{}',
    'package-lock.json': '{}',
  };
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(base, f)), { recursive: true });
    fs.writeFileSync(path.join(base, f), text);
  }
  return base;
}

describe('the workflow bundle cache (worker/bundle-cache.ts)', () => {
  it('is keyed by the workflow sources: the same code gives the same key, any change a new one', () => {
    const base = tree();
    const key = workflowSourceHash(base);
    expect(workflowSourceHash(base)).toBe(key);
    for (const [file, text] of [
      ['workflows/index.ts', 'export async function syncObject() { return 1; }'],
      ['src/sync/objects.ts', 'export const DEFAULT_OBJECTS = ["Lead"];'],
      ['activities/signals.ts', 'export const x = 1;'],
      ['package-lock.json', '{"v":2}'],
    ] as const) {
      const before = workflowSourceHash(base);
      fs.writeFileSync(path.join(base, file), text);
      expect(workflowSourceHash(base), file).not.toBe(before);
    }
    // Not an input: the worker's other files.
    const before = workflowSourceHash(base);
    fs.writeFileSync(path.join(base, 'worker', 'create.ts'), '// worker');
    expect(workflowSourceHash(base)).toBe(before);
  });

  it('builds once, then every start reuses the file; nothing per process, no temp file left', async () => {
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    let builds = 0;
    const build = async (out: string) => {
      builds++;
      fs.writeFileSync(out, '// bundle');
    };
    const first = await cachedWorkflowBundle({ dir: cache, hash: 'abc123', build });
    const second = await cachedWorkflowBundle({ dir: cache, hash: 'abc123', build });
    expect([first.built, second.built, builds]).toEqual([true, false, 1]);
    expect(second.path).toBe(first.path);
    expect(fs.readdirSync(cache)).toEqual(['workflows-abc123.js']);
    // Two workers starting together on a new version: both get the whole file, one file is left.
    const [a, b] = await Promise.all([cachedWorkflowBundle({ dir: cache, hash: 'def456', build }), cachedWorkflowBundle({ dir: cache, hash: 'def456', build })]);
    expect(a.path).toBe(b.path);
    expect(fs.readFileSync(a.path, 'utf8')).toBe('// bundle');
    expect(fs.readdirSync(cache).sort()).toEqual(['workflows-abc123.js', 'workflows-def456.js']);
  });

  it('a failed build leaves neither a bundle nor a temp file', async () => {
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    const failing = async (out: string) => {
      fs.writeFileSync(out, '// half');
      throw new Error('webpack failed');
    };
    await expect(cachedWorkflowBundle({ dir: cache, hash: 'abc', build: failing })).rejects.toThrow('webpack failed');
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it('removes bundles of other versions not used for a day, and temp files of killed builds', () => {
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    const now = Date.now();
    const at = (name: string, age: number) => {
      const f = path.join(cache, name);
      fs.writeFileSync(f, 'x');
      fs.utimesSync(f, new Date(now - age), new Date(now - age));
      return f;
    };
    const current = at('workflows-aaa.js', 2 * STALE_MS);
    const stale = at('workflows-bbb.js', STALE_MS + 1000);
    const recent = at('workflows-ccc.js', STALE_MS - 60_000);
    const tmp = at('workflows-ddd.js.123-0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6.tmp', STALE_MS + 1000);
    const foreign = at('notes.txt', 2 * STALE_MS);
    expect(pruneBundles(cache, current, now).sort()).toEqual([stale, tmp].sort());
    expect(fs.readdirSync(cache).sort()).toEqual([path.basename(recent), path.basename(current), path.basename(foreign)].sort());
  });

  it(`keeps at most ${MAX_BUNDLES} bundles: beyond the most recently used, those idle for ten minutes go`, () => {
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    const now = Date.now();
    const at = (name: string, ageMs: number) => {
      const f = path.join(cache, name);
      fs.writeFileSync(f, 'x');
      fs.utimesSync(f, new Date(now - ageMs), new Date(now - ageMs));
      return f;
    };
    const current = at('workflows-0.js', 0);
    // 12 other versions, used 1..12 hours ago, and one used a minute ago.
    const others = Array.from({ length: 12 }, (_, i) => at(`workflows-${(i + 1).toString(16)}a.js`, (i + 1) * 3600_000));
    const justUsed = at('workflows-ff.js', 60_000);
    const removed = pruneBundles(cache, current, now);
    // Kept: the current one, the one just used, and the 6 most recent others (8 in all).
    expect(removed.sort()).toEqual(others.slice(6).sort());
    expect(fs.readdirSync(cache)).toHaveLength(MAX_BUNDLES);
    expect(fs.existsSync(justUsed)).toBe(true);
  });

  it('removes the per-process bundles older versions left in the temp folder, only of processes gone', () => {
    const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
    const names = [
      'sf-iceberg-workflows-111-0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6.js',
      'sf-iceberg-workflows-111-0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f7.js.tmp',
      'sf-iceberg-workflows-222-0e4f8c3a-1b2d-4c5e-8f90-a1b2c3d4e5f6.js',
      'sf-iceberg-workflows-notes.txt',
    ];
    for (const n of names) fs.writeFileSync(path.join(tmp, n), 'x');
    const removed = removeLegacyBundles(tmp, (pid) => pid === 222);
    expect(removed.map((f) => path.basename(f)).sort()).toEqual(names.slice(0, 2).sort());
    expect(fs.readdirSync(tmp).sort()).toEqual(names.slice(2).sort());
  });

  it('lives in the project cache (SF_ICEBERG_CACHE), not the temp folder', () => {
    const cache = path.join(dir, 'project-cache');
    expect(bundleCacheDir({ SF_ICEBERG_CACHE: cache })).toBe(path.join(cache, 'workflow-bundles'));
    expect(fs.statSync(path.join(cache, 'workflow-bundles')).isDirectory()).toBe(true);
  });
});
