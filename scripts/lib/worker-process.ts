import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WORKER_NODE_FLAGS, WORKER_PROCESS_ENV } from '../../worker/process-options';

const root = path.join(__dirname, '..', '..');

/**
 * The worker as users run it (worker/main.ts), in its own process: node loads TypeScript through
 * tsx's loader, so the pid is the worker itself and SIGKILL hits it, not a wrapper.
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    // BENCH_CPU_PROFILE_DIR: each worker writes a V8 CPU profile there when it exits (NODE_OPTIONS
    // refuses --cpu-prof); open it in Chrome DevTools or speedscope. BENCH_WORKER_NODE_FLAGS
    // replaces the worker's Node flags, to compare others (e.g. a larger young generation) in a bench.
    const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROFILE_DIR)}`] : [];
    const flags = process.env.BENCH_WORKER_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? WORKER_NODE_FLAGS;
    this.child = spawn(
      process.execPath,
      [...flags, ...profile, '--require', path.join(root, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs'), path.join(root, 'worker', 'main.ts')],
      {
        cwd: root,
        env: { ...process.env, ...WORKER_PROCESS_ENV, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const collect = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves once the worker polls its task queue. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const started = Date.now();
    while (!this.output.includes('Worker polling')) {
      if (this.child.exitCode !== null) throw new Error(`the worker exited (${this.child.exitCode}):\n${this.output}`);
      if (Date.now() - started > timeoutMs) throw new Error(`the worker did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The process's peak resident memory so far (Linux: VmHWM), in bytes. */
  peakRss(): number | undefined {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The process's CPU so far (Linux: /proc/<pid>/stat utime + stime, every thread of it, the
   * encoder and parser threads included), in seconds; undefined once it has exited.
   */
  cpuSeconds(): number | undefined {
    return processCpuSeconds(this.child.pid);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/**
 * The CPU worker processes spend from now on: each one's reading is taken now, and the returned
 * function gives the sum of their CPU since (every thread), undefined when a reading is missing (a
 * process gone).
 */
export function cpuMeter(workers: readonly WorkerProcess[]): () => number | undefined {
  const before = workers.map((w) => w.cpuSeconds());
  return () => {
    let sum = 0;
    for (const [i, w] of workers.entries()) {
      const now = w.cpuSeconds();
      if (now === undefined || before[i] === undefined) return undefined;
      sum += now - before[i]!;
    }
    return sum;
  };
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux's supported architectures). */
const CLOCK_TICKS = 100;

/** A process's user + system CPU so far, in seconds (threads included); with `children`, also its waited-for children's. */
export function processCpuSeconds(pid: number | undefined, opts: { children?: boolean } = {}): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at field 3; utime is 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (opts.children ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
