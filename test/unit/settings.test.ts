import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingsProblems, unknownSettingProblems } from '../../src/settings/settings';
import { syncArea } from '../../src/sync/settings';
import { workerArea } from '../../src/config/worker-settings';
import { duckdbArea } from '../../src/destinations/duckdb-settings';
import { salesforceReadArea } from '../../src/salesforce/read-settings';
import { maintenanceArea, maintenanceSettings } from '../../src/maintenance/settings';
import { parquetArea } from '../../src/parquet/settings';
import { preflightArea } from '../../src/preflight/settings';
import { parseTemporalSettings } from '../../src/config/temporal-settings';
import { salesforceEnv as E, parseSalesforceSettings } from '../../src/salesforce/settings';

/** Settings that are complete and valid; each case below changes a few. */
const GOOD = {
  [E.userName]: 'u@example.com',
  [E.password]: 'pw-secret-4711',
  [E.securityToken]: 'tok-secret-4711',
  ICEBERG_CATALOG_URI: 'http://127.0.0.1:8181/iceberg',
  S3_ACCESS_KEY_ID: 'key',
  S3_SECRET_ACCESS_KEY: 's3-secret-4711',
};
const SECRETS = ['pw-secret-4711', 'tok-secret-4711', 's3-secret-4711', 'cs-secret-4711', 'sess-secret-4711', 'iceberg-secret-4711'];
const without = (...names: string[]) => Object.fromEntries(Object.entries(GOOD).filter(([k]) => !names.includes(k)));
const { privateKey: RSA_KEY } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

/** [what, settings, the one problem expected (a substring or pattern)] */
const CASES: [string, Record<string, string>, string | RegExp][] = [
  // Salesforce: missing, conflicting, malformed
  ['SecurityToken without token', without(E.securityToken), `Salesforce auth method SecurityToken needs ${E.securityToken} (not set).`],
  [
    'ConsumerKeySecret without PASSWORD',
    { ...without(E.password, E.securityToken), [E.consumerKey]: 'ck', [E.consumerSecret]: 'cs-secret-4711', [E.domain]: 'acme.my' },
    `Salesforce auth method ConsumerKeySecret needs ${E.password} (not set).`,
  ],
  [
    'JwtBearer without PRIVATEKEY',
    { ...without(E.password, E.securityToken), [E.consumerKey]: 'ck' },
    `Salesforce auth method JwtBearer needs ${E.privateKey} or ${E.privateKeyFile} (not set).`,
  ],
  [
    'InstanceAuth and SecurityToken together',
    { ...GOOD, [E.sessionId]: 'sess-secret-4711', [E.instanceUrl]: 'https://acme.my.salesforce.com' },
    new RegExp(`^${E.userName}, ${E.password}, ${E.securityToken} \\(SecurityToken\\) and ${E.sessionId}, ${E.instanceUrl} \\(InstanceAuth\\) are both set`),
  ],
  [
    'SecurityToken and OrganizationId together',
    { ...GOOD, [E.organizationId]: '00D5g000004SIMAAAA' },
    new RegExp(`^${E.securityToken} \\(SecurityToken\\) and ${E.organizationId} \\(OrganizationId\\) are both set`),
  ],
  [
    'PRIVATEKEY and PRIVATEKEY_FILE together',
    { ...without(E.password, E.securityToken), [E.consumerKey]: 'ck', [E.privateKey]: RSA_KEY, [E.privateKeyFile]: '/k.pem' },
    /PRIVATEKEY and .*PRIVATEKEY_FILE are both set/,
  ],
  [
    'malformed private key',
    { ...without(E.password, E.securityToken), [E.consumerKey]: 'ck', [E.privateKey]: '-----BEGIN PRIVATE KEY-----\\nnot-a-key\\n-----END PRIVATE KEY-----' },
    `${E.privateKey}: is not a PEM private key`,
  ],
  [
    'ClientCredentials without My Domain',
    { ...without(E.userName, E.password, E.securityToken), [E.consumerKey]: 'ck', [E.consumerSecret]: 'cs-secret-4711' },
    /ClientCredentials needs your My Domain in SOURCES__SALESFORCE__DOMAIN/,
  ],
  [
    'InstanceAuth without instance URL',
    { ...without(E.userName, E.password, E.securityToken), [E.sessionId]: 'sess-secret-4711' },
    `Salesforce auth method InstanceAuth needs ${E.instanceUrl} (not set).`,
  ],
  [
    'instance URL not a URL',
    { ...without(E.userName, E.password, E.securityToken), [E.sessionId]: 'sess-secret-4711', [E.instanceUrl]: 'acme' },
    `${E.instanceUrl}: must be the http(s) URL of the Salesforce instance of the session (it is "acme")`,
  ],
  ['API version', { ...GOOD, [E.version]: 'latest' }, `${E.version}: must be an API version like 62.0 (it is "latest")`],
  ['domain', { ...GOOD, [E.domain]: 'acme my' }, `${E.domain}: must be login, test, a My Domain`],
  ['two different domains', { ...GOOD, [E.domain]: 'acme.my', [E.credentialsDomain]: 'test' }, /DOMAIN and .*CREDENTIALS__DOMAIN are both set, to different domains/],
  ['organization id', { ...without(E.securityToken), [E.organizationId]: 'acme' }, `${E.organizationId}: must be an organization id`],
  ['no credentials', without(E.userName, E.password, E.securityToken), /No Salesforce credentials are set/],
  // Iceberg / S3
  ['catalog URI', { ...GOOD, ICEBERG_CATALOG_URI: 'localhost:8181' }, 'ICEBERG_CATALOG_URI: must be the http(s) URL of an Iceberg REST catalog (it is "localhost:8181")'],
  ['no catalog URI', without('ICEBERG_CATALOG_URI'), 'ICEBERG_CATALOG_URI: not set (Iceberg REST catalog base URI)'],
  [
    'token and client credentials',
    { ...GOOD, ICEBERG_TOKEN: 'iceberg-secret-4711', ICEBERG_CLIENT_ID: 'id', ICEBERG_CLIENT_SECRET: 'iceberg-secret-4711' },
    /either ICEBERG_TOKEN .* not both/,
  ],
  ['client id without secret', { ...GOOD, ICEBERG_CLIENT_ID: 'id' }, 'OAuth2 client credentials need both ICEBERG_CLIENT_ID and ICEBERG_CLIENT_SECRET'],
  ['scope without client credentials', { ...GOOD, ICEBERG_SCOPE: 'PRINCIPAL_ROLE:ALL' }, /ICEBERG_SCOPE is used only with ICEBERG_CLIENT_ID/],
  ['S3 key without secret', without('S3_SECRET_ACCESS_KEY'), 'static S3 credentials need both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY'],
  ['session token without keys', { ...without('S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'), S3_SESSION_TOKEN: 'x' }, /S3_SESSION_TOKEN is used only with/],
  ['bucket name', { ...GOOD, S3_BUCKET: 'My_Bucket' }, 'S3_BUCKET: must be a bucket name'],
  ['path style', { ...GOOD, S3_PATH_STYLE: 'yes please' }, 'S3_PATH_STYLE: must be true or false'],
  [
    'access delegation',
    { ...GOOD, ICEBERG_ACCESS_DELEGATION: 'remote' },
    'ICEBERG_ACCESS_DELEGATION: must be vended-credentials,remote-signing, vended-credentials, remote-signing or none',
  ],
  // Temporal
  ['port out of range', { ...GOOD, TEMPORAL_ADDRESS: '127.0.0.1:99999' }, 'TEMPORAL_ADDRESS: has a port outside 1-65535 (it is "127.0.0.1:99999")'],
  ['address with a scheme', { ...GOOD, TEMPORAL_ADDRESS: 'http://127.0.0.1:7233' }, 'TEMPORAL_ADDRESS: must be host:port'],
  ['UI URL', { ...GOOD, TEMPORAL_UI_URL: '127.0.0.1:8233' }, 'TEMPORAL_UI_URL: must be the http(s) URL of the Temporal Web UI'],
  // worker / sync
  ['no activities', { ...GOOD, WORKER_MAX_ACTIVITIES: '0' }, 'WORKER_MAX_ACTIVITIES: must be a whole number of at least 1 (it is "0")'],
  ['activities not a number', { ...GOOD, WORKER_MAX_ACTIVITIES: 'many' }, 'WORKER_MAX_ACTIVITIES: must be a whole number of at least 1 (it is "many")'],
  ['read API', { ...GOOD, SALESFORCE_READ_API: 'soap' }, 'SALESFORCE_READ_API: must be auto, bulk or rest (it is "soap")'],
  ['checkpoint', { ...GOOD, SYNC_CHECKPOINT_SECONDS: 'soon' }, 'SYNC_CHECKPOINT_SECONDS: must be a number of seconds of at least 0 (it is "soon")'],
  ['lag', { ...GOOD, SYNC_LAG_MS: '-5' }, 'SYNC_LAG_MS: must be a whole number of at least 0'],
  ['DuckDB flag', { ...GOOD, DUMP_TO_DUCKDB: 'maybe' }, 'DUMP_TO_DUCKDB: must be true or false'],
  ['namespace', { ...GOOD, SYNC_NAMESPACE: 'crm..sf' }, 'SYNC_NAMESPACE: must be a namespace'],
  ['preflight switch', { ...GOOD, WORKER_PREFLIGHT: 'skip' }, 'WORKER_PREFLIGHT: must be true or false'],
  ['log level', { ...GOOD, WORKER_LOG_LEVEL: 'loud' }, 'WORKER_LOG_LEVEL: must be TRACE, DEBUG, INFO, WARN or ERROR'],
  ['REST window rows', { ...GOOD, SALESFORCE_REST_WINDOW_ROWS: '-1' }, 'SALESFORCE_REST_WINDOW_ROWS: must be a whole number of at least 0'],
  ['pages in flight', { ...GOOD, SALESFORCE_BULK_PAGES_IN_FLIGHT: '40' }, 'SALESFORCE_BULK_PAGES_IN_FLIGHT: must be a whole number from 1 to 16'],
  ['preflight timeout', { ...GOOD, PREFLIGHT_TIMEOUT_SECONDS: '0' }, 'PREFLIGHT_TIMEOUT_SECONDS: must be a number of seconds above 0'],
  // typos
  [
    'typo of a catalog setting',
    { ...GOOD, ICEBERG_CATALOG_UIR: 'http://x' },
    'ICEBERG_CATALOG_UIR is not a setting (a typo of ICEBERG_CATALOG_URI?): it does nothing. Rename it to ICEBERG_CATALOG_URI or unset it.',
  ],
  // the original pipeline's names
  [
    'a setting and its original name, set to different values',
    { ...GOOD, ICEBERG_CATALOG_URL: 'http://elsewhere:8181/catalog' },
    "ICEBERG_CATALOG_URL (the original pipeline's name of ICEBERG_CATALOG_URI) and ICEBERG_CATALOG_URI are both set, to different values: keep one of them",
  ],
  [
    'an original name with a bad value',
    { ...without('ICEBERG_CATALOG_URI'), ICEBERG_CATALOG_URL: 'lakekeeper:8181' },
    'ICEBERG_CATALOG_URI: must be the http(s) URL of an Iceberg REST catalog',
  ],
  ['original namespace', { ...GOOD, ICEBERG_NAMESPACE: 'crm..sf' }, 'SYNC_NAMESPACE: must be a namespace'],
  ['resources', { ...GOOD, SALESFORCE_RESOURCES: 'account, 9lives' }, 'SALESFORCE_RESOURCES: must be a comma-separated list of Salesforce objects'],
  ['write disposition', { ...GOOD, WRITE_DISPOSITION: 'merge' }, 'WRITE_DISPOSITION: must be default or force_replace (it is "merge")'],
  ['batch size', { ...GOOD, BATCH_SIZE: '1k' }, 'BATCH_SIZE: must be a whole number of at least 1'],
  [
    'an unresolved 1Password reference, named once and never shown',
    { ...without('ICEBERG_CATALOG_URI'), ICEBERG_CATALOG_URL: 'op://Personal/lakekeeper/url' },
    /^ICEBERG_CATALOG_URL holds a 1Password reference \(op:\/\/\.\.\.\) that was not resolved: start under the 1Password CLI, e\.g\. op run --env-file=\.env\.local -- npm run worker$/,
  ],
  ['typo of an S3 setting', { ...GOOD, S3_SECRET_KEY: 's3-secret-4711' }, 'S3_SECRET_KEY is not a setting (a typo of S3_SECRET_ACCESS_KEY?)'],
  [
    'typo of a Salesforce setting',
    { ...GOOD, SOURCES__SALESFORCE__CREDENTIALS__USERNAME: 'u' },
    `SOURCES__SALESFORCE__CREDENTIALS__USERNAME is not a setting (a typo of ${E.userName}?)`,
  ],
  ['typo of the domain', { ...GOOD, SOURCES__SALESFORCE__DOMIAN: 'test' }, /SOURCES__SALESFORCE__DOMIAN is not a setting \(a typo of SOURCES__SALESFORCE__DOMAIN\?\)/],
];

describe('settings: each bad setting gives one message naming it', () => {
  it('complete settings have no problem', () => {
    expect(settingsProblems(GOOD)).toEqual([]);
  });

  it.each(CASES)('%s', (_what, env, expected) => {
    const problems = settingsProblems(env);
    expect(problems).toHaveLength(1);
    if (typeof expected === 'string') expect(problems[0]).toContain(expected);
    else expect(problems[0]).toMatch(expected);
    for (const secret of SECRETS) expect(problems[0]).not.toContain(secret);
    expect(problems[0]).not.toContain(RSA_KEY.slice(40, 80));
  });

  it('every problem is listed at once', () => {
    const problems = settingsProblems({ ...without(E.securityToken), TEMPORAL_ADDRESS: '127.0.0.1:99999', WORKER_MAX_ACTIVITIES: '0', ICEBERG_CATALOG_URI: 'x', S3_REGOIN: 'eu' });
    expect(problems.map((p) => p.split(/[ :]/)[0])).toEqual(['Salesforce', 'ICEBERG_CATALOG_URI', 'TEMPORAL_ADDRESS', 'WORKER_MAX_ACTIVITIES', 'S3_REGOIN']);
  });

  it('DuckDB mode needs no catalog or S3 settings', () => {
    expect(settingsProblems({ ...without('ICEBERG_CATALOG_URI', 'S3_ACCESS_KEY_ID'), DUMP_TO_DUCKDB: 'true' })).toEqual([]);
  });

  it('names under other prefixes are not typos', () => {
    expect(unknownSettingProblems({ TEMPORAL_TLS_CERT: 'x', AWS_REGION: 'x', SYNC_RUNS: 'x' })).toEqual([]);
  });
});

describe('settings: valid values are parsed, defaults applied', () => {
  const kind = (env: Record<string, string>) => parseSalesforceSettings(env).auth.kind;

  it('chooses the auth method from what is set', () => {
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't' })).toBe('SecurityToken');
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.organizationId]: '00D5g000004SIMAAAA' })).toBe('OrganizationId');
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.consumerKey]: 'k', [E.consumerSecret]: 's' })).toBe('ConsumerKeySecret');
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't', [E.consumerKey]: 'k', [E.consumerSecret]: 's' })).toBe('ConsumerKeySecret');
    expect(kind({ [E.userName]: 'u', [E.consumerKey]: 'k', [E.privateKeyFile]: '/x.key' })).toBe('JwtBearer');
    expect(kind({ [E.userName]: 'u', [E.consumerKey]: 'k', [E.privateKey]: RSA_KEY.replace(/\n/g, '\\n') })).toBe('JwtBearer');
    expect(kind({ [E.consumerKey]: 'k', [E.consumerSecret]: 's', [E.domain]: 'acme.my' })).toBe('ClientCredentials');
    expect(kind({ [E.refreshToken]: 'r', [E.consumerKey]: 'k' })).toBe('RefreshToken');
    expect(kind({ [E.refreshToken]: 'r', [E.consumerKey]: 'k', [E.consumerSecret]: 's' })).toBe('RefreshToken');
    expect(kind({ [E.sessionId]: 's', [E.instanceUrl]: 'https://acme.my.salesforce.com' })).toBe('InstanceAuth');
  });

  it('applies defaults from the same declarations the reference shows', () => {
    expect(parseTemporalSettings({})).toEqual({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'salesforce-sync',
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    });
    const env = { WORKER_MAX_ACTIVITIES: '', DUMP_TO_DUCKDB: 'TRUE' };
    expect(workerArea.parse(env)).toEqual({
      WORKER_MAX_ACTIVITIES: 8,
      WORKER_MAX_PARTITIONS: 1,
      WORKER_PREFLIGHT: true,
      WORKER_LOG_LEVEL: 'INFO',
      WORKER_MEMORY_LOG_SECONDS: 0,
    });
    expect(duckdbArea.parse(env)).toEqual({ DUMP_TO_DUCKDB: true, DUCKDB_PATH: 'salesforce_sync.duckdb' });
    expect(syncArea.parse(env)).toMatchObject({ SYNC_LAG_MS: 60000, SYNC_CHECKPOINT_SECONDS: 60, SYNC_NAMESPACE: 'salesforce', SYNC_TIME_TYPE: 'string' });
    expect(salesforceReadArea.parse(env)).toEqual({
      SALESFORCE_READ_API: 'auto',
      SALESFORCE_REST_WINDOW_ROWS: 10_000,
      SALESFORCE_BULK_PAGES_IN_FLIGHT: 4,
      SALESFORCE_BULK_MIN_SLICE_MINUTES: 60,
    });
    expect(parquetArea.parse(env)).toEqual({ PARQUET_ENCODER_THREADS: 1, PARQUET_MAX_OPEN_PARTITIONS: 48, PARQUET_SORT_BUFFER_MB: 64 });
    expect(preflightArea.parse(env)).toEqual({ PREFLIGHT_TIMEOUT_SECONDS: 10, PREFLIGHT_OBJECT: 'Account' });
    expect(maintenanceSettings({ MAINTENANCE_KEEP_SNAPSHOT_HOURS: '1' })).toEqual({
      targetFileBytes: 128 * 1024 * 1024,
      maxManifests: 8,
      keepSnapshots: 10,
      keepSnapshotAgeMs: 3_600_000,
      orphanAgeMs: 72 * 3_600_000,
    });
    expect(parseSalesforceSettings(GOOD).apiVersion).toBe('62.0');
    const doc = (name: string) => SETTINGS.find((s) => s.name === name)!;
    expect(doc('WORKER_MAX_ACTIVITIES').default).toBe('8');
    expect(doc('TEMPORAL_ADDRESS').default).toBe('127.0.0.1:7233');
  });

  it('groups every setting by the area it configures, under the names users have in their .env files', () => {
    // A setting's name is part of users' .env files and Schedules' workers: renaming one is a breaking change.
    expect(SETTINGS.map((s) => s.name).sort()).toEqual(
      // prettier-ignore
      [
        'SOURCES__SALESFORCE__CREDENTIALS__USER_NAME', 'SOURCES__SALESFORCE__CREDENTIALS__PASSWORD', 'SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN',
        'SOURCES__SALESFORCE__CREDENTIALS__ORGANIZATION_ID', 'SOURCES__SALESFORCE__CREDENTIALS__CONSUMER_KEY', 'SOURCES__SALESFORCE__CREDENTIALS__CONSUMER_SECRET',
        'SOURCES__SALESFORCE__CREDENTIALS__PRIVATEKEY', 'SOURCES__SALESFORCE__CREDENTIALS__PRIVATEKEY_FILE', 'SOURCES__SALESFORCE__CREDENTIALS__REFRESH_TOKEN',
        'SOURCES__SALESFORCE__CREDENTIALS__SESSION_ID', 'SOURCES__SALESFORCE__CREDENTIALS__INSTANCE_URL', 'SOURCES__SALESFORCE__CREDENTIALS__DOMAIN',
        'SOURCES__SALESFORCE__DOMAIN', 'SOURCES__SALESFORCE__VERSION', 'SOURCES__SALESFORCE__API_BUDGET_PERCENT', 'SOURCES__SALESFORCE__API_BUDGET_ACTION',
        'SOURCES__SALESFORCE__API_BUDGET_CHECK_SECONDS', 'ICEBERG_CATALOG_URI', 'ICEBERG_WAREHOUSE', 'ICEBERG_TOKEN', 'ICEBERG_CLIENT_ID', 'ICEBERG_CLIENT_SECRET',
        'ICEBERG_OAUTH2_SERVER_URI', 'ICEBERG_REFRESH_MARGIN_SECONDS', 'ICEBERG_SCOPE', 'ICEBERG_ACCESS_DELEGATION', 'S3_ENDPOINT', 'S3_REGION', 'S3_PATH_STYLE', 'S3_BUCKET', 'S3_ACCESS_KEY_ID',
        'S3_SECRET_ACCESS_KEY', 'S3_SESSION_TOKEN', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'TEMPORAL_UI_URL', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS',
        'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA',
        'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'SYNC_LAG_MS',
        'SALESFORCE_READ_API', 'SALESFORCE_REST_WINDOW_ROWS', 'SALESFORCE_BULK_PAGES_IN_FLIGHT', 'SALESFORCE_BULK_MIN_SLICE_MINUTES', 'PARQUET_ENCODER_THREADS', 'PARQUET_MAX_OPEN_PARTITIONS', 'PARQUET_SORT_BUFFER_MB', 'SYNC_PARTITION_MIN_PAGES',
        'SYNC_PARTITION_PAGES', 'SYNC_PARTITION_SLICE_ROWS', 'SYNC_PARTITIONS_IN_FLIGHT', 'SYNC_TIME_TYPE', 'SYNC_CHECKPOINT_SECONDS', 'SYNC_COUNT_CHECK', 'SYNC_GET_DELETED', 'SYNC_RECONCILE_MAX_PERCENT', 'DUMP_TO_DUCKDB', 'DUCKDB_PATH', 'SYNC_NAMESPACE',
        'MAINTENANCE_TARGET_FILE_MB', 'MAINTENANCE_MAX_MANIFESTS', 'MAINTENANCE_KEEP_SNAPSHOTS', 'MAINTENANCE_KEEP_SNAPSHOT_HOURS', 'MAINTENANCE_ORPHAN_HOURS',
        'WORKER_LOG_LEVEL', 'WORKER_MEMORY_LOG_SECONDS', 'WORKER_MAX_ACTIVITIES', 'WORKER_MAX_PARTITIONS', 'WORKER_PREFLIGHT', 'PREFLIGHT_TIMEOUT_SECONDS', 'PREFLIGHT_OBJECT', 'SALESFORCE_RESOURCES', 'WRITE_DISPOSITION', 'BATCH_SIZE',
      ].sort(),
    );
    const group = (name: string) => SETTINGS.find((s) => s.name === name)?.group;
    expect(
      ['WORKER_MAX_ACTIVITIES', 'MAINTENANCE_ORPHAN_HOURS', 'PARQUET_ENCODER_THREADS', 'DUCKDB_PATH', 'PREFLIGHT_OBJECT', 'SALESFORCE_READ_API', 'SYNC_LAG_MS'].map(group),
    ).toEqual(['worker', 'maintenance', 'parquet', 'duckdb', 'preflight', 'salesforce', 'sync']);
    // Each area is reported by its own name.
    expect(() => maintenanceArea.parse({ MAINTENANCE_ORPHAN_HOURS: '0' })).toThrow(
      /^Invalid maintenance settings:\n  - MAINTENANCE_ORPHAN_HOURS: must be a whole number of at least 1 \(it is "0"\)$/,
    );
    expect(settingsProblems({ ...GOOD, WORKER_MAX_PARTITIONS: 'two', PARQUET_ENCODER_THREADS: '17' })).toEqual([
      'WORKER_MAX_PARTITIONS: must be a whole number of at least 1 (it is "two")',
      'PARQUET_ENCODER_THREADS: must be a whole number from 0 to 16 (it is "17")',
    ]);
  });
});
