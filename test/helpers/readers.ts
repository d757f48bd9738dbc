import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { stackSettings } from './stack';

const run = promisify(execFile);
const script = path.join(__dirname, '..', 'readers', 'iceberg_readers.py');

/** The readers' environment: the stack's settings, and for Spark its Java (JAVA_HOME) and jars. */
function readersEnv(): { python: string; env: NodeJS.ProcessEnv } {
  const settings = stackSettings();
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  if (settings.SPARK_JAVA_HOME) env.JAVA_HOME = settings.SPARK_JAVA_HOME;
  return { python: settings.READERS_PYTHON, env };
}

/**
 * Runs the independent readers (pyiceberg, DuckDB + iceberg extension, Spark, see
 * test/readers/iceberg_readers.py) against the local stack and returns their JSON answer.
 */
export async function readers<T = unknown>(...args: string[]): Promise<T> {
  const { python, env } = readersEnv();
  try {
    const { stdout } = await run(python, [script, ...args], { env, maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`readers ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * Runs several reader commands in one process (Spark's JVM starts once, which takes seconds):
 * one answer per command, in order; a command that failed answers `{ error }` with the reader's
 * message (e.g. Spark's refusal), and every answer carries the `seconds` it took.
 */
export async function readersBatch<T = ReadResult>(commands: string[][]): Promise<(T & { error?: string; seconds: number })[]> {
  const { python, env } = readersEnv();
  const child = run(python, [script, 'batch'], { env, maxBuffer: 256 * 1024 * 1024 });
  child.child.stdin!.end(JSON.stringify(commands));
  try {
    const { stdout } = await child;
    return JSON.parse(stdout) as (T & { error?: string; seconds: number })[];
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`readers batch failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface ReadResult {
  reader: 'pyiceberg' | 'duckdb' | 'spark';
  columns: { name: string; type: string; required?: boolean; id?: number; doc?: string | null }[];
  rows: Record<string, unknown>[];
  snapshot_id?: string | null;
  snapshots?: number;
  sequence_number?: number;
  summary?: Record<string, string> | null;
  properties?: Record<string, string>;
  /** Spark with --metadata: its snapshots, history, files and manifests tables, one object per row. */
  metadata?: {
    snapshots: SparkSnapshot[];
    history: { made_current_at: string; snapshot_id: string; parent_id: string | null; is_current_ancestor: boolean }[];
    files: Record<string, unknown>[];
    manifests: Record<string, unknown>[];
  };
}

/** A row of Spark's `snapshots` metadata table (ids as exact strings). */
export interface SparkSnapshot {
  committed_at: string;
  snapshot_id: string;
  parent_id: string | null;
  operation: string;
  manifest_list: string;
  summary: Record<string, string>;
}
