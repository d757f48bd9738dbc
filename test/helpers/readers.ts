import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
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
  return readersAt<T>({}, ...args);
}

/** `readers` with settings of its own, e.g. another catalog's ICEBERG_CATALOG_URI. */
export async function readersAt<T = unknown>(overrides: Record<string, string>, ...args: string[]): Promise<T> {
  const { python, env } = readersEnv();
  try {
    const { stdout } = await run(python, [script, ...args], { env: { ...env, ...overrides }, maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`readers ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * A long-lived reader process (`iceberg_readers.py serve`) for a test file: Spark's JVM starts
 * once and serves every read and write after it. Commands run one at a time, in order. `env`
 * names another catalog (its ICEBERG_CATALOG_URI) for one command.
 */
export class ReaderSession {
  private child?: ChildProcessWithoutNullStreams;
  private pending: { resolve: (answer: unknown) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  private start(): ChildProcessWithoutNullStreams {
    const { python, env } = readersEnv();
    const child = spawn(python, [script, 'serve'], { env });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8000)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.resolve(JSON.parse(line)));
    child.on('exit', (code) => {
      for (const p of this.pending.splice(0)) p.reject(new Error(`the reader process exited (${code}): ${this.stderr.trim()}`));
      this.child = undefined;
    });
    return child;
  }

  /** One command's answer (e.g. `read --reader spark NS TABLE`); an `{ error }` answer is returned, not thrown. */
  command<T = ReadResult>(argv: string[], env: Record<string, string> = {}): Promise<T & { error?: string; seconds: number }> {
    this.child ??= this.start();
    const child = this.child;
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve: resolve as (answer: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ argv, env })}\n`);
    });
  }

  /** Like `command`, but an `{ error }` answer fails. */
  async must<T = ReadResult>(argv: string[], env: Record<string, string> = {}): Promise<T & { seconds: number }> {
    const answer = await this.command<T>(argv, env);
    if (answer.error) throw new Error(`readers ${argv.join(' ')}: ${answer.error}`);
    return answer;
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    });
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
