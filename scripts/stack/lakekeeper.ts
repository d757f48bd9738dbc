/**
 * Lakekeeper in the local stack (`npm run stack -- up --catalog lakekeeper`): the catalog the
 * original pipeline was built for, on PostgreSQL (Debian's `postgresql`, run as a local process),
 * bootstrapped, with a warehouse on the stack's MinIO that vends STS credentials and allows remote
 * signing. Lakekeeper itself is not on any registry these machines reach: it comes from the user
 * (LAKEKEEPER_BIN). docker-compose.yml's Lakekeeper service creates its warehouse from the same
 * file (lakekeeper-warehouse.json), so both stacks have the same one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stackDir } from './paths';
import { StackError } from './toolchain';
import type { ServerSpec } from './server-spec';

/** The warehouse's JSON, with {{S3_ENDPOINT}}, {{S3_ACCESS_KEY_ID}}, {{S3_SECRET_ACCESS_KEY}} to fill in (also read by docker-compose.yml). */
export const warehouseTemplatePath = path.join(__dirname, 'lakekeeper-warehouse.json');

/** PostgreSQL's data directory (Lakekeeper's catalog), beside the other servers' data. */
export const lakekeeperDataDir = path.join(stackDir, 'postgres');

/** The bootstrap request of a fresh Lakekeeper (POST /management/v1/bootstrap). */
export const bootstrapBody = { 'accept-terms-of-use': true } as const;

/** The warehouse request (POST /management/v1/warehouse) for a MinIO at `endpoint` with these root keys. */
export function warehouseBody(s3: { endpoint: string; accessKeyId: string; secretAccessKey: string }): Record<string, unknown> {
  const values: Record<string, string> = { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey };
  const text = fs.readFileSync(warehouseTemplatePath, 'utf8').replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`${warehouseTemplatePath}: no value for {{${name}}}`);
    return JSON.stringify(values[name]).slice(1, -1);
  });
  return JSON.parse(text) as Record<string, unknown>;
}

export interface LakekeeperPorts {
  lakekeeper: number;
  lakekeeperMetrics: number;
  postgres: number;
}

/** Lakekeeper's own ports: STACK_LAKEKEEPER_PORT (8183), STACK_LAKEKEEPER_METRICS_PORT (9183; its default 9000 is MinIO's), STACK_POSTGRES_PORT (5433). */
export function lakekeeperPorts(env: NodeJS.ProcessEnv = process.env): LakekeeperPorts {
  const port = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new StackError(`${name}=${raw} is not a port number (1-65535)`);
    return n;
  };
  return { lakekeeper: port('STACK_LAKEKEEPER_PORT', 8183), lakekeeperMetrics: port('STACK_LAKEKEEPER_METRICS_PORT', 9183), postgres: port('STACK_POSTGRES_PORT', 5433) };
}

/** What is missing when LAKEKEEPER_BIN names no runnable Lakekeeper: where to get one, said exactly. */
export function missingLakekeeperMessage(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.LAKEKEEPER_BIN;
  const what = given ? `LAKEKEEPER_BIN=${given} is not an executable file.` : 'LAKEKEEPER_BIN is not set.';
  return (
    `${what} --catalog lakekeeper runs a Lakekeeper binary you provide (v0.13 or later; it is on no package registry): ` +
    "download lakekeeper-x86_64-unknown-linux-gnu.tar.gz (or your platform's) from https://github.com/lakekeeper/lakekeeper/releases, " +
    'or copy /home/nonroot/lakekeeper out of the image quay.io/lakekeeper/catalog (docker create, then docker cp), ' +
    'and set LAKEKEEPER_BIN to its path. Without one, use --catalog nessie|rest|both, or docker compose up (docker-compose.yml runs Lakekeeper).'
  );
}

/** The Lakekeeper binary (LAKEKEEPER_BIN); a StackError saying what is missing and where to get it otherwise. */
export function lakekeeperBinary(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.LAKEKEEPER_BIN;
  if (given) {
    try {
      fs.accessSync(given, fs.constants.X_OK);
      if (fs.statSync(given).isFile()) return path.resolve(given);
    } catch {
      // said below
    }
  }
  throw new StackError(missingLakekeeperMessage(env));
}

/** The newest PostgreSQL server of Debian's packages (/usr/lib/postgresql/<major>/bin), if installed. */
export function postgresBinDir(root = '/usr/lib/postgresql'): string | undefined {
  let majors: string[];
  try {
    majors = fs.readdirSync(root).filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const dir = majors
    .sort((a, b) => Number(b) - Number(a))
    .map((m) => path.join(root, m, 'bin'))
    .find((d) => fs.existsSync(path.join(d, 'postgres')) && fs.existsSync(path.join(d, 'initdb')));
  return dir;
}

/** The commands that install Debian's PostgreSQL (as root, like the test runner's chromium). */
export const postgresInstallCommands: [string, string[]][] = [
  ['apt-get', ['update', '-q']],
  ['apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql']],
];

/** PostgreSQL's server binaries: installed with apt-get when missing and this is root; a StackError otherwise. */
export function ensurePostgres(
  log: (line: string) => void,
  run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }),
): string {
  const found = postgresBinDir();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new StackError("Lakekeeper needs PostgreSQL: install Debian's package (sudo apt-get install postgresql), then run this again.");
  }
  log('Installing PostgreSQL (apt-get install postgresql) ...');
  for (const [cmd, args] of postgresInstallCommands) run(cmd, args);
  const dir = postgresBinDir();
  if (!dir) throw new StackError('apt-get install postgresql finished, but no /usr/lib/postgresql/<version>/bin/postgres is there.');
  return dir;
}

/**
 * PostgreSQL refuses to run as root: as root, its commands run as `user` (runuser), and its data
 * directory belongs to that user.
 */
export function asPostgresUser(command: string, args: string[], root = process.getuid?.() === 0, user = 'nobody'): { command: string; args: string[] } {
  return root ? { command: 'runuser', args: ['-u', user, '--', command, ...args] } : { command, args };
}

/** The database Lakekeeper keeps its catalog in, on the stack's PostgreSQL (local only: trust authentication on 127.0.0.1). */
export function databaseUrl(ports: LakekeeperPorts): string {
  return `postgresql://lakekeeper@127.0.0.1:${ports.postgres}/lakekeeper`;
}

/**
 * One shell line that prepares PostgreSQL's data directory once (initdb, trust on 127.0.0.1 only)
 * and then becomes the server, on 127.0.0.1 at its port, its socket in the data directory.
 */
export function postgresCommand(bin: string, dataDir: string, ports: LakekeeperPorts): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pg = (name: string) => q(path.join(bin, name));
  return [
    `[ -f ${q(path.join(dataDir, 'PG_VERSION'))} ] || ${pg('initdb')} -D ${q(dataDir)} -U lakekeeper --auth=trust -E UTF8 >/dev/null`,
    `exec ${pg('postgres')} -D ${q(dataDir)} -h 127.0.0.1 -p ${ports.postgres} -k ${q(dataDir)}`,
  ].join(' && ');
}

/** Lakekeeper's environment: its database, where it listens, what it calls itself, no authentication (local only). */
export function lakekeeperEnv(ports: LakekeeperPorts, encryptionKey: string): Record<string, string> {
  return {
    LAKEKEEPER__PG_DATABASE_URL_READ: databaseUrl(ports),
    LAKEKEEPER__PG_DATABASE_URL_WRITE: databaseUrl(ports),
    LAKEKEEPER__PG_ENCRYPTION_KEY: encryptionKey,
    LAKEKEEPER__BASE_URI: `http://127.0.0.1:${ports.lakekeeper}`,
    LAKEKEEPER__BIND_IP: '127.0.0.1',
    LAKEKEEPER__LISTEN_PORT: String(ports.lakekeeper),
    LAKEKEEPER__METRICS_PORT: String(ports.lakekeeperMetrics),
    LAKEKEEPER__AUTHZ_BACKEND: 'allowall',
    RUST_LOG: 'info',
  };
}

/**
 * Ends a shell line: the shell stays the process the stack started (its command line is how
 * `down` knows the process is still ours), so it must not exec its last command.
 */
const KEEP_SHELL = '; exit $?';

/** Waits for PostgreSQL, migrates the catalog's database (idempotent), then becomes `lakekeeper serve`. */
export function lakekeeperCommand(lakekeeper: string, pgBin: string, ports: LakekeeperPorts): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return (
    [
      `until ${q(path.join(pgBin, 'pg_isready'))} -q -h 127.0.0.1 -p ${ports.postgres}; do sleep 0.5; done`,
      `${q(path.join(pgBin, 'createdb'))} -h 127.0.0.1 -p ${ports.postgres} -U lakekeeper lakekeeper 2>/dev/null; ${q(lakekeeper)} migrate`,
      `${q(lakekeeper)} serve`,
    ].join(' && ') + KEEP_SHELL
  );
}

/** The catalog's REST base URI (ICEBERG_CATALOG_URI). */
export function lakekeeperCatalogUri(ports: LakekeeperPorts): string {
  return `http://127.0.0.1:${ports.lakekeeper}/catalog`;
}

/**
 * Bootstraps a fresh Lakekeeper (a second bootstrap is refused: already done) and creates the
 * warehouse unless it exists. Idempotent.
 */
export async function setUpLakekeeper(ports: LakekeeperPorts, s3: { endpoint: string; accessKeyId: string; secretAccessKey: string }): Promise<void> {
  const base = `http://127.0.0.1:${ports.lakekeeper}`;
  const post = (url: string, body: unknown) => fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const info: { bootstrapped?: boolean } = await fetch(`${base}/management/v1/info`).then((r) => (r.ok ? (r.json() as Promise<{ bootstrapped?: boolean }>) : {}));
  if (!info.bootstrapped) {
    const r = await post('/management/v1/bootstrap', bootstrapBody);
    if (!r.ok && r.status !== 400 && r.status !== 409) throw new StackError(`Lakekeeper refused its bootstrap: HTTP ${r.status} ${await r.text()}`);
  }
  const list = await fetch(`${base}/management/v1/warehouse`);
  const existing = list.ok ? (((await list.json()) as { warehouses?: { name: string }[] }).warehouses ?? []) : [];
  const body = warehouseBody(s3);
  if (existing.some((w) => w.name === body['warehouse-name'])) return;
  const r = await post('/management/v1/warehouse', body);
  // The body holds MinIO's keys: the answer is shown, the request never.
  if (!r.ok && r.status !== 409) throw new StackError(`Lakekeeper refused the warehouse ${String(body['warehouse-name'])}: HTTP ${r.status} ${await r.text()}`);
}

/** A server of the stack as scripts/stack/servers.ts describes one. */
export type LakekeeperServer = ServerSpec & { name: 'postgres' | 'lakekeeper' };

/**
 * PostgreSQL and Lakekeeper as servers of the stack. `lakekeeper` is the binary (lakekeeperBinary),
 * `pgBin` PostgreSQL's (ensurePostgres); `s3` the stack's MinIO, whose root keys become the
 * warehouse's storage credential (Lakekeeper hands clients STS credentials or signs for them).
 */
export function lakekeeperServers(opts: {
  lakekeeper: string;
  pgBin: string;
  ports: LakekeeperPorts;
  dataDir: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  encryptionKey: string;
  root?: boolean;
}): LakekeeperServer[] {
  const { ports } = opts;
  const root = opts.root ?? process.getuid?.() === 0;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pgLine = postgresCommand(opts.pgBin, opts.dataDir, ports);
  // As root: the data directory is handed to the unprivileged user PostgreSQL runs as. The server
  // runs in a shell of its own (which execs it): the one the stack started stays (KEEP_SHELL).
  const pg = root
    ? {
        command: 'sh',
        args: ['-c', `mkdir -p ${q(opts.dataDir)} && chown nobody ${q(opts.dataDir)} && chmod 700 ${q(opts.dataDir)} && runuser -u nobody -- sh -c ${q(pgLine)}${KEEP_SHELL}`],
      }
    : { command: 'sh', args: ['-c', `mkdir -p ${q(opts.dataDir)} && chmod 700 ${q(opts.dataDir)} && sh -c ${q(pgLine)}${KEEP_SHELL}`] };
  const base = `http://127.0.0.1:${ports.lakekeeper}`;
  return [
    {
      name: 'postgres',
      title: 'PostgreSQL (Lakekeeper)',
      ports: [ports.postgres],
      ...pg,
      env: {},
      healthy: async () => {
        execFileSync(path.join(opts.pgBin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(ports.postgres)], { stdio: 'ignore', timeout: 3000 });
      },
      urls: [`postgresql://127.0.0.1:${ports.postgres}`],
    },
    {
      name: 'lakekeeper',
      title: 'Lakekeeper',
      ports: [ports.lakekeeper, ports.lakekeeperMetrics],
      command: 'sh',
      args: ['-c', lakekeeperCommand(opts.lakekeeper, opts.pgBin, ports)],
      env: lakekeeperEnv(ports, opts.encryptionKey),
      healthy: async () => {
        const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) });
        if (!r.ok) throw new Error(`${base}/health answered ${r.status}`);
      },
      afterStart: () => setUpLakekeeper(ports, opts.s3),
      urls: [lakekeeperCatalogUri(ports), `${base}/ui`],
    },
  ];
}
