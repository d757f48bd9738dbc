import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface StartedProcess {
  pid: number;
  /** The full command line, compared with the live process before it is ever signalled. */
  command: string[];
  log: string;
  startedAt: string;
}

/** Starts a server in its own process group, detached from this process, output to its log. */
export function startDetached(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; log: string; cwd?: string }): StartedProcess {
  const fd = fs.openSync(options.log, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return { pid: child.pid, command: [command, ...args], log: options.log, startedAt: new Date().toISOString() };
  } finally {
    fs.closeSync(fd);
  }
}

function liveCommandLine(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part.length > 0);
  } catch {
    // No /proc (macOS): ask ps. Arguments come back space-joined, which is enough to compare.
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' });
    const line = ps.stdout?.trim();
    return line ? line.split(' ') : undefined;
  }
}

/**
 * True only when `pid` is alive AND still runs the command we started: a pid the kernel reused for
 * another program is never ours, so `down` can never signal a stranger.
 */
export function isOurs(proc: StartedProcess): boolean {
  try {
    process.kill(proc.pid, 0);
  } catch {
    return false;
  }
  const live = liveCommandLine(proc.pid);
  if (!live) return false;
  return live.join(' ') === proc.command.join(' ');
}

/** SIGTERM, then SIGKILL after `graceMs`; returns once the process is gone. */
export async function stopProcess(proc: StartedProcess, graceMs = 15_000): Promise<'stopped' | 'killed' | 'not running'> {
  if (!isOurs(proc)) return 'not running';
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid, sig); // the whole process group we created
    } catch {
      try {
        process.kill(proc.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(proc)) return 'stopped';
    await sleep(200);
  }
  signal('SIGKILL');
  while (isOurs(proc)) await sleep(100);
  return 'killed';
}

/** Whether something already listens on 127.0.0.1:port (binding fails). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.once('listening', () => server.close(() => resolve(false)));
    server.listen({ port, host: '127.0.0.1', exclusive: true });
  });
}

/** Best-effort name of the process listening on a port, for error messages. */
export function portOwner(port: number): string | undefined {
  const ss = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = ss.stdout?.match(/users:\(\("([^"]+)",pid=(\d+)/);
  return match ? `${match[1]} (pid ${match[2]})` : undefined;
}

export function tailOf(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
