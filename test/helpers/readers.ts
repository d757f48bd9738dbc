import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { stackSettings } from './stack';

const run = promisify(execFile);
const script = path.join(__dirname, '..', 'readers', 'iceberg_readers.py');

/**
 * Runs the independent readers (pyiceberg, DuckDB + iceberg extension, see
 * test/readers/iceberg_readers.py) against the local stack and returns their JSON answer.
 */
export async function readers<T = unknown>(...args: string[]): Promise<T> {
  const settings = stackSettings();
  try {
    const { stdout } = await run(settings.READERS_PYTHON, [script, ...args], {
      env: { ...process.env, ...settings },
      maxBuffer: 256 * 1024 * 1024,
    });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`readers ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface ReadResult {
  reader: 'pyiceberg' | 'duckdb';
  columns: { name: string; type: string; required?: boolean; id?: number; doc?: string | null }[];
  rows: Record<string, unknown>[];
  snapshot_id?: string | null;
  snapshots?: number;
  sequence_number?: number;
  summary?: Record<string, string> | null;
  properties?: Record<string, string>;
}
