import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A set-up problem a person can fix; the message says how. */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a command and returns its combined output, or undefined when it cannot run or fails. */
export function tryRun(command: string, args: string[], timeoutMs = 30_000): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

export interface Java {
  path: string;
  major: number;
}

function javaMajor(javaPath: string): number | undefined {
  const out = tryRun(javaPath, ['-version']);
  const match = out?.match(/version "(\d+)(?:\.(\d+))?/);
  if (!match) return undefined;
  const first = Number(match[1]);
  // Java 8 and older report "1.8.0".
  return first === 1 ? Number(match[2]) : first;
}

/**
 * Finds a Java runtime of at least `minMajor` (and at most `maxMajor`): $JAVA_HOME, then `java` on PATH, then the JDKs
 * installed side by side under /usr/lib/jvm (Debian) — the newest that qualifies wins.
 */
export function findJava(minMajor: number, maxMajor = Infinity): Java | undefined {
  const candidates: string[] = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  const onPath = which('java');
  if (onPath) candidates.push(onPath);
  for (const root of ['/usr/lib/jvm', '/opt/java', '/Library/Java/JavaVirtualMachines']) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const entry of entries) {
      candidates.push(path.join(root, entry, 'bin', 'java'));
      candidates.push(path.join(root, entry, 'Contents', 'Home', 'bin', 'java'));
    }
  }
  let best: Java | undefined;
  for (const candidate of new Set(candidates)) {
    if (!fs.existsSync(candidate)) continue;
    const major = javaMajor(candidate);
    if (major === undefined || major < minMajor || major > maxMajor) continue;
    if (!best || major > best.major) best = { path: candidate, major };
  }
  return best;
}

/** Python 3 interpreter with the venv module, or undefined. */
export function findPython(): string | undefined {
  for (const name of ['python3', 'python']) {
    const found = which(name);
    if (!found) continue;
    const version = tryRun(found, ['-c', 'import sys, venv; print(sys.version_info[0], sys.version_info[1])']);
    const [major, minor] = (version ?? '').trim().split(' ').map(Number);
    if (major === 3 && (minor ?? 0) >= 9) return found;
  }
  return undefined;
}
