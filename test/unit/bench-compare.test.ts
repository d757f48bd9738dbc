import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dltSourceDir } from '../../scripts/bench-compare';
import { median, perMillionRows, summarize, thousands } from '../../scripts/compare/summary';

describe('bench compare figures', () => {
  it('median: the middle value, the mean of the middle two for an even count, null for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 4])).toBe(7);
    expect(median([])).toBeNull();
  });

  it('a pipeline line holds the medians of its rounds and every round', () => {
    const runs = [
      { rows: 200_000, run_s: 10, rows_per_s: 20_000, peak_rss_mb: 400, cpu_s_per_million_rows: 30, snapshots: 1, data_files: 1 },
      { rows: 200_000, run_s: 8, rows_per_s: 25_001, peak_rss_mb: 411, cpu_s_per_million_rows: 25.5, snapshots: 1, data_files: 1 },
      { rows: 200_000, run_s: 9, rows_per_s: 22_000, peak_rss_mb: 405, cpu_s_per_million_rows: null, snapshots: 1, data_files: 1 },
    ];
    // An unmeasured round's CPU is left out of the median, not counted as 0.
    expect(summarize('sf-iceberg', runs)).toEqual({ name: 'sf-iceberg', rows: 200_000, rows_per_s: 22_000, peak_rss_mb: 405, cpu_s_per_million_rows: 27.75, snapshots: 1, runs });
    expect(thousands(1000)).toBe('1,000');
  });

  it('CPU per million rows: seconds scaled to a million rows; null when unmeasured or no rows', () => {
    expect(perMillionRows(14, 500_000)).toBe(28);
    expect(perMillionRows(1.234567, 1_000_000)).toBe(1.23);
    expect(perMillionRows(undefined, 1_000)).toBeNull();
    expect(perMillionRows(5, 0)).toBeNull();
  });

  it('the dlt source folder: the one holding salesforce/, or salesforce/ itself; otherwise an error saying how to get it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlt-source-'));
    try {
      expect(() => dltSourceDir(undefined)).toThrow(/--dlt-source is missing.*dlt init salesforce duckdb/);
      expect(() => dltSourceDir(dir)).toThrow(/no dlt Salesforce source in .*verified-sources/);
      fs.mkdirSync(path.join(dir, 'salesforce'));
      fs.writeFileSync(path.join(dir, 'salesforce', '__init__.py'), '');
      expect(dltSourceDir(dir)).toBe(dir);
      expect(dltSourceDir(path.join(dir, 'salesforce'))).toBe(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
