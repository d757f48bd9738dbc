import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { parseEnvFile, writeEnvFile } from '../../src/config/env-file';
import { ensureSearchAttributes } from '../../activities/search-attribute-state';
import type { Tools } from './install';
import { stackPaths } from './paths';
import { StackError } from './toolchain';
import type { ServerSpec } from './server-spec';
import { ensurePostgres, lakekeeperBinary, lakekeeperCatalogUri, lakekeeperDataDir, lakekeeperPorts, lakekeeperServers } from './lakekeeper';

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name}=${raw} is not a TCP port`);
  return value;
}

/** Ports of the local stack; the defaults match docker-compose.yml. Override with STACK_*_PORT. */
export function stackPorts(env: NodeJS.ProcessEnv = process.env) {
  return {
    temporal: port(env, 'STACK_TEMPORAL_PORT', 7233),
    temporalUi: port(env, 'STACK_TEMPORAL_UI_PORT', 8233),
    minio: port(env, 'STACK_MINIO_PORT', 9000),
    minioConsole: port(env, 'STACK_MINIO_CONSOLE_PORT', 9001),
    nessie: port(env, 'STACK_NESSIE_PORT', 8181),
    nessieManagement: port(env, 'STACK_NESSIE_MANAGEMENT_PORT', 9181),
    restCatalog: port(env, 'STACK_REST_CATALOG_PORT', 8182),
  };
}
export type StackPorts = ReturnType<typeof stackPorts>;

/** Which Iceberg REST catalog(s) the stack runs: Nessie, Apache Iceberg's reference server, both, or Lakekeeper (scripts/stack/lakekeeper.ts). */
export const catalogChoices = ['nessie', 'rest', 'both', 'lakekeeper'] as const;
export type CatalogChoice = (typeof catalogChoices)[number];

/** `--catalog`, else STACK_CATALOG, else Nessie. */
export function catalogChoice(option?: string, env: NodeJS.ProcessEnv = process.env): CatalogChoice {
  const raw = option ?? (env.STACK_CATALOG || 'nessie');
  if (!(catalogChoices as readonly string[]).includes(raw)) {
    throw new StackError(`${option === undefined ? 'STACK_CATALOG' : '--catalog'}=${raw} is not one of ${catalogChoices.join(', ')}`);
  }
  return raw as CatalogChoice;
}

/**
 * How the worker gets to storage: `static` keys in stack.env (the default), keys `vended` by the
 * catalog (Nessie's ASSUME_ROLE through MinIO's STS, 15-minute sessions scoped to a table), or
 * requests `signed` by the catalog (Nessie's REQUEST_SIGNING). Nessie serves all three at once,
 * each on a warehouse (and bucket) of its own; the mode picks the one stack.env names, and in the
 * vended and signed modes stack.env holds no S3 keys.
 */
export const credentialModes = ['static', 'vended', 'signed'] as const;
export type CredentialMode = (typeof credentialModes)[number];

/** `--credentials`, else STACK_CREDENTIALS, else static. */
export function credentialMode(option?: string, env: NodeJS.ProcessEnv = process.env): CredentialMode {
  const raw = option ?? (env.STACK_CREDENTIALS || 'static');
  if (!(credentialModes as readonly string[]).includes(raw)) {
    throw new StackError(`${option === undefined ? 'STACK_CREDENTIALS' : '--credentials'}=${raw} is not one of ${credentialModes.join(', ')}`);
  }
  return raw as CredentialMode;
}

/** Nessie's warehouse (and its bucket) for each credentials mode. */
export const modeWarehouses: Record<CredentialMode, string> = { static: 'warehouse', vended: 'vended', signed: 'signed' };
/** How long a vended session lasts: MinIO's STS allows no less than 15 minutes. */
export const vendedSessionSeconds = 900;

export const warehouse = 'warehouse';
/** The reference REST catalog's warehouse: the same bucket as Nessie's, under its own prefix. */
export const restWarehouse = 'rest-warehouse';
export const bucket = 'warehouse';
export const region = 'us-east-1';

export interface StackCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The local MinIO's root credentials: made once at random and kept in .stack/stack.env (mode 600)
 * beside the data they protect, so nothing secret is committed or shared between machines.
 */
export function stackCredentials(): StackCredentials {
  // The stack's own file first (stack.env has no keys in the vended and signed modes), then
  // stack.env as stacks before that file wrote it.
  for (const file of [stackPrivateSettings(), stackPaths.settings]) {
    let existing: Record<string, string> = {};
    try {
      existing = parseEnvFile(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // first run
    }
    if (existing.S3_ACCESS_KEY_ID && existing.S3_SECRET_ACCESS_KEY) {
      return { accessKeyId: existing.S3_ACCESS_KEY_ID, secretAccessKey: existing.S3_SECRET_ACCESS_KEY };
    }
  }
  if (fs.existsSync(path.join(stackPaths.minioData, '.minio.sys'))) {
    throw new Error(
      `${stackPaths.settings} (which holds the local MinIO's credentials) is missing but MinIO data exists in ${stackPaths.minioData}: ` +
        'run `npm run stack -- down --purge` to start over with empty servers.',
    );
  }
  return { accessKeyId: `sficeberg-${crypto.randomBytes(4).toString('hex')}`, secretAccessKey: crypto.randomBytes(24).toString('base64url') };
}

/** MinIO's root keys, for the stack's own setup and tests only (mode 600, never read by the product). */
export function stackPrivateSettings(): string {
  return path.join(path.dirname(stackPaths.settings), 'minio-root.env');
}

/** Keeps MinIO's root keys in the stack's own file. */
export function writeStackCredentials(creds: StackCredentials): void {
  writeEnvFile(
    stackPrivateSettings(),
    { S3_ACCESS_KEY_ID: creds.accessKeyId, S3_SECRET_ACCESS_KEY: creds.secretAccessKey },
    "MinIO's root keys, for `npm run stack` and the tests; never for the worker.",
  );
}

/** The settings every other part of the project reads (see src/config): written by `stack up`. */
export function connectionSettings(
  ports: StackPorts,
  creds: StackCredentials,
  tools: Partial<Tools>,
  catalog: CatalogChoice = 'nessie',
  credentials: CredentialMode = 'static',
): Record<string, string> {
  const restUri = `http://127.0.0.1:${ports.restCatalog}`;
  const settings: Record<string, string> = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: `http://127.0.0.1:${ports.temporalUi}`,
    ICEBERG_CATALOG_URI: catalog === 'rest' ? restUri : catalog === 'lakekeeper' ? lakekeeperCatalogUri(lakekeeperPorts()) : `http://127.0.0.1:${ports.nessie}/iceberg`,
    ICEBERG_WAREHOUSE: warehouse,
    S3_ENDPOINT: `http://127.0.0.1:${ports.minio}`,
    S3_REGION: region,
    S3_PATH_STYLE: 'true',
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: creds.accessKeyId,
    S3_SECRET_ACCESS_KEY: creds.secretAccessKey,
  };
  // With both catalogs the product keeps using Nessie; the second one is there for tests and tools,
  // under STACK_ because the product refuses unknown ICEBERG_ names as typos.
  if (catalog === 'both') settings.STACK_REST_CATALOG_URI = restUri;
  if (credentials !== 'static' && catalog !== 'rest') {
    // Storage access comes from Nessie alone: its vended or signed warehouse, and no keys.
    settings.ICEBERG_WAREHOUSE = modeWarehouses[credentials];
    settings.S3_BUCKET = modeWarehouses[credentials];
    delete settings.S3_ACCESS_KEY_ID;
    delete settings.S3_SECRET_ACCESS_KEY;
    settings.STACK_CREDENTIALS = credentials;
  }
  if (tools.python) settings.READERS_PYTHON = tools.python;
  if (tools.sparkJavaHome) settings.SPARK_JAVA_HOME = tools.sparkJavaHome;
  if (tools.sparkJars) settings.SPARK_JARS = tools.sparkJars;
  return settings;
}

export type { ServerSpec } from './server-spec';

async function httpOk(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

export function s3Client(ports: StackPorts, creds: StackCredentials): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${ports.minio}`,
    region,
    forcePathStyle: true,
    credentials: creds,
  });
}

/**
 * Nessie's vended and signed warehouses, each on its own bucket (per-bucket options): `vended`
 * hands clients STS session credentials from MinIO (ASSUME_ROLE; MinIO's root key assumes the
 * session, Nessie scopes it to the table's location with a session policy), `signed` gives them
 * no key and signs their requests (REQUEST_SIGNING).
 */
function nessieCredentialModeArgs(ports: StackPorts): string[] {
  const buckets = 'nessie.catalog.service.s3.buckets';
  const { vended, signed } = modeWarehouses;
  return [
    `-Dnessie.catalog.warehouses.${vended}.location=s3://${vended}/`,
    `-Dnessie.catalog.warehouses.${signed}.location=s3://${signed}/`,
    `-D${buckets}.${vended}.client-iam.enabled=true`,
    `-D${buckets}.${vended}.sts-endpoint=http://127.0.0.1:${ports.minio}/`,
    `-D${buckets}.${vended}.client-iam.session-duration=PT${vendedSessionSeconds}S`,
    `-D${buckets}.${vended}.client-iam.role-session-name=sf-iceberg`,
    `-D${buckets}.${vended}.request-signing-enabled=false`,
    `-D${buckets}.${signed}.request-signing-enabled=true`,
  ];
}

export function serverSpecs(tools: Tools, ports: StackPorts, creds: StackCredentials, catalog: CatalogChoice = 'nessie'): ServerSpec[] {
  const temporal: ServerSpec = {
    name: 'temporal',
    title: 'Temporal dev server',
    ports: [ports.temporal, ports.temporalUi],
    command: tools.temporal,
    args: [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(ports.temporal),
      '--ui-port',
      String(ports.temporalUi),
      // A file, not memory: workflows survive a restart of the server.
      '--db-filename',
      path.join(stackPaths.temporalData, 'temporal.db'),
      '--namespace',
      'default',
      '--log-level',
      'warn',
      // One write partition per task queue (the server's default is 4). A worker polls a queue
      // only when it has a free slot (WORKER_MAX_PARTITIONS is 1 by default), so a task queued
      // while every slot was busy sat in one of 4 partitions until a poll happened to reach it:
      // 0.4–1.3 s between partitions, and a 1M-row sync measured 82k or 111k rows/s by chance.
      // Reads stay at 4 partitions: polls that reach an empty one are forwarded to the first, and
      // tasks an older stack queued in the others are still read.
      '--dynamic-config-value',
      'matching.numTaskqueueWritePartitions=1',
    ],
    env: {},
    healthy: async () => {
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}`, connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await connection.close();
      }
      await httpOk(`http://127.0.0.1:${ports.temporalUi}/`);
    },
    // The sync's custom search attributes (activities/search-attributes.ts), so syncs can be listed
    // by object, mode and rows.
    afterStart: async () => {
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}`, connectTimeout: 2000 });
      try {
        await ensureSearchAttributes(connection.operatorService, 'default');
      } finally {
        await connection.close();
      }
    },
    urls: [`grpc 127.0.0.1:${ports.temporal}`, `Web UI http://127.0.0.1:${ports.temporalUi}`],
  };

  const minio: ServerSpec = {
    name: 'minio',
    title: 'MinIO (S3)',
    ports: [ports.minio, ports.minioConsole],
    command: tools.minio,
    args: ['server', stackPaths.minioData, '--address', `127.0.0.1:${ports.minio}`, '--console-address', `127.0.0.1:${ports.minioConsole}`],
    env: { MINIO_ROOT_USER: creds.accessKeyId, MINIO_ROOT_PASSWORD: creds.secretAccessKey, MINIO_UPDATE: 'off' },
    healthy: () => httpOk(`http://127.0.0.1:${ports.minio}/minio/health/ready`),
    afterStart: async () => {
      const s3 = s3Client(ports, creds);
      try {
        // The static warehouse's bucket, and those of Nessie's vended and signed warehouses.
        for (const name of new Set([bucket, ...Object.values(modeWarehouses)])) {
          try {
            await s3.send(new HeadBucketCommand({ Bucket: name }));
          } catch {
            await s3.send(new CreateBucketCommand({ Bucket: name }));
          }
        }
      } finally {
        s3.destroy();
      }
    },
    urls: [`S3 http://127.0.0.1:${ports.minio} (bucket ${bucket})`, `console http://127.0.0.1:${ports.minioConsole}`],
  };

  const s3Options = 'nessie.catalog.service.s3.default-options';
  const nessie: ServerSpec = {
    name: 'nessie',
    title: 'Nessie (Iceberg REST catalog)',
    ports: [ports.nessie, ports.nessieManagement],
    command: tools.java,
    args: [
      '-Xms64m',
      '-Xmx768m',
      '-XX:+UseSerialGC',
      '--enable-native-access=ALL-UNNAMED',
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${ports.nessie}`,
      `-Dquarkus.management.host=127.0.0.1`,
      `-Dquarkus.management.port=${ports.nessieManagement}`,
      // Persistent: tables survive a restart, like the data in MinIO they point to.
      '-Dnessie.version.store.type=ROCKSDB',
      `-Dnessie.version.store.persist.rocks.database-path=${stackPaths.nessieData}`,
      `-Dnessie.catalog.default-warehouse=${warehouse}`,
      `-Dnessie.catalog.warehouses.${warehouse}.location=s3://${bucket}/`,
      `-D${s3Options}.endpoint=http://127.0.0.1:${ports.minio}/`,
      `-D${s3Options}.path-style-access=true`,
      `-D${s3Options}.region=${region}`,
      // Clients use their own S3 settings; no request signing through the catalog.
      `-D${s3Options}.request-signing-enabled=false`,
      // The key itself comes from the environment (STACK_S3_NAME / STACK_S3_SECRET), not argv.
      `-D${s3Options}.access-key=urn:nessie-secret:quarkus:stack.s3`,
      ...nessieCredentialModeArgs(ports),
      '-jar',
      tools.nessieJar,
    ],
    env: { STACK_S3_NAME: creds.accessKeyId, STACK_S3_SECRET: creds.secretAccessKey },
    healthy: () => httpOk(`http://127.0.0.1:${ports.nessie}/iceberg/v1/config?warehouse=${warehouse}`),
    urls: [`Iceberg REST http://127.0.0.1:${ports.nessie}/iceberg (warehouse ${warehouse})`],
  };

  // Apache Iceberg's reference server (what the apache/iceberg-rest-fixture image runs), configured
  // like that image through CATALOG_* variables: a JDBC catalog in SQLite so tables survive a
  // restart, S3FileIO on the local MinIO. The keys stay in the environment, not argv.
  const restCatalog: ServerSpec = {
    name: 'rest-catalog',
    title: 'Iceberg REST catalog (reference)',
    ports: [ports.restCatalog],
    command: tools.java,
    args: [
      '-Xms64m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      // sqlite-jdbc loads its native library.
      '--enable-native-access=ALL-UNNAMED',
      // At INFO the server logs every catalog property, the S3 secret included.
      '-Dorg.slf4j.simpleLogger.log.org.apache.iceberg.rest.RESTCatalogServer=warn',
      '-cp',
      tools.restCatalogClasspath,
      'org.apache.iceberg.rest.RESTCatalogServer',
    ],
    env: {
      CATALOG_CATALOG__IMPL: 'org.apache.iceberg.jdbc.JdbcCatalog',
      CATALOG_URI: `jdbc:sqlite:${path.join(stackPaths.restCatalogData, 'catalog.db')}`,
      CATALOG_JDBC_USER: 'user',
      CATALOG_JDBC_PASSWORD: 'password',
      CATALOG_JDBC_STRICT__MODE: 'true',
      CATALOG_REST_PORT: String(ports.restCatalog),
      CATALOG_WAREHOUSE: `s3://${bucket}/${restWarehouse}`,
      CATALOG_IO__IMPL: 'org.apache.iceberg.aws.s3.S3FileIO',
      CATALOG_S3_ENDPOINT: `http://127.0.0.1:${ports.minio}`,
      CATALOG_S3_PATH__STYLE__ACCESS: 'true',
      CATALOG_S3_ACCESS__KEY__ID: creds.accessKeyId,
      CATALOG_S3_SECRET__ACCESS__KEY: creds.secretAccessKey,
      CATALOG_CLIENT_REGION: region,
    },
    healthy: () => httpOk(`http://127.0.0.1:${ports.restCatalog}/v1/config`),
    urls: [`Iceberg REST http://127.0.0.1:${ports.restCatalog} (warehouse s3://${bucket}/${restWarehouse})`],
  };

  if (catalog === 'lakekeeper') return [temporal, minio, ...lakekeeperSpecs(ports, creds)];
  return [temporal, minio, ...(catalog === 'rest' ? [] : [nessie]), ...(catalog === 'nessie' ? [] : [restCatalog])];
}

/** PostgreSQL and Lakekeeper (LAKEKEEPER_BIN) in place of Nessie, on the stack's MinIO. */
function lakekeeperSpecs(ports: StackPorts, creds: StackCredentials): ServerSpec[] {
  const lakekeeper = lakekeeperBinary();
  return lakekeeperServers({
    lakekeeper,
    pgBin: ensurePostgres((line) => console.log(line)),
    ports: lakekeeperPorts(),
    dataDir: lakekeeperDataDir,
    s3: { endpoint: `http://127.0.0.1:${ports.minio}`, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    // Lakekeeper encrypts the storage credential with it: stable for the stack's life, as its keys.
    encryptionKey: crypto.createHash('sha256').update(`lakekeeper:${creds.secretAccessKey}`).digest('hex'),
  });
}
