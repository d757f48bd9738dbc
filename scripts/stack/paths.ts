import os from 'node:os';
import path from 'node:path';

/** Repository root (scripts/stack/ is two levels down). */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Runtime state of the local stack: data, logs, pids, connection settings. Never committed. */
export const stackDir = path.resolve(process.env.STACK_DIR ?? path.join(repoRoot, '.stack'));

/**
 * Built binaries, downloaded jars and the readers' virtualenv live outside the work tree so a
 * fresh clone (and CI) reuses them instead of rebuilding for minutes.
 */
export const cacheDir = path.resolve(process.env.SF_ICEBERG_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'sf-iceberg'));

export const stackPaths = {
  state: path.join(stackDir, 'state.json'),
  settings: path.join(stackDir, 'stack.env'),
  logs: path.join(stackDir, 'logs'),
  temporalData: path.join(stackDir, 'temporal'),
  minioData: path.join(stackDir, 'minio'),
  nessieData: path.join(stackDir, 'nessie'),
  restCatalogData: path.join(stackDir, 'rest-catalog'),
  cacheBin: path.join(cacheDir, 'bin'),
  cacheJars: path.join(cacheDir, 'jars'),
  venv: path.join(cacheDir, 'venv'),
};

export function logFile(server: string): string {
  return path.join(stackPaths.logs, `${server}.log`);
}
