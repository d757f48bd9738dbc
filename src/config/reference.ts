import { salesforceEnv as E } from '../salesforce/settings';

/** Every setting the product reads: the env-var reference (`npm run env`). */
export interface SettingDoc {
  name: string;
  group: 'salesforce' | 'iceberg' | 'temporal' | 'sync';
  description: string;
  default?: string;
  /** The Salesforce auth methods the variable belongs to. */
  methods?: string[];
  secret?: boolean;
}

export const SETTINGS: SettingDoc[] = [
  { name: E.userName, group: 'salesforce', description: 'Salesforce username', methods: ['SecurityToken', 'OrganizationId', 'ConsumerKeySecret', 'JwtBearer'] },
  { name: E.password, group: 'salesforce', description: 'Salesforce password', methods: ['SecurityToken', 'OrganizationId', 'ConsumerKeySecret'], secret: true },
  { name: E.securityToken, group: 'salesforce', description: 'security token appended to the password', methods: ['SecurityToken', 'ConsumerKeySecret'], secret: true },
  { name: E.organizationId, group: 'salesforce', description: 'organization id for IP-restricted logins without a token', methods: ['OrganizationId'] },
  { name: E.consumerKey, group: 'salesforce', description: 'connected app consumer key (client id)', methods: ['ConsumerKeySecret', 'JwtBearer', 'ClientCredentials', 'RefreshToken'] },
  { name: E.consumerSecret, group: 'salesforce', description: 'connected app consumer secret', methods: ['ConsumerKeySecret', 'ClientCredentials', 'RefreshToken'], secret: true },
  { name: E.privateKey, group: 'salesforce', description: 'PEM private key for the JWT bearer flow (\\n allowed for line breaks)', methods: ['JwtBearer'], secret: true },
  { name: E.privateKeyFile, group: 'salesforce', description: 'path of the PEM private key for the JWT bearer flow', methods: ['JwtBearer'] },
  { name: E.refreshToken, group: 'salesforce', description: 'OAuth refresh token', methods: ['RefreshToken'], secret: true },
  { name: E.sessionId, group: 'salesforce', description: 'an existing session id (cannot be renewed)', methods: ['InstanceAuth'], secret: true },
  { name: E.instanceUrl, group: 'salesforce', description: 'instance URL of the session', methods: ['InstanceAuth'] },
  { name: E.credentialsDomain, group: 'salesforce', description: 'same as SOURCES__SALESFORCE__DOMAIN' },
  { name: E.domain, group: 'salesforce', description: 'login, test, a My Domain (acme.my) or a URL', default: 'login' },
  { name: E.version, group: 'salesforce', description: 'Salesforce API version', default: '62.0' },
  { name: 'ICEBERG_CATALOG_URI', group: 'iceberg', description: 'Iceberg REST catalog base URI', default: '(local stack) http://127.0.0.1:8181/iceberg' },
  { name: 'ICEBERG_WAREHOUSE', group: 'iceberg', description: 'warehouse name sent to GET /v1/config', default: '(local stack) warehouse' },
  { name: 'ICEBERG_TOKEN', group: 'iceberg', description: 'bearer token for the catalog', secret: true },
  { name: 'ICEBERG_CLIENT_ID', group: 'iceberg', description: 'OAuth2 client id for the catalog' },
  { name: 'ICEBERG_CLIENT_SECRET', group: 'iceberg', description: 'OAuth2 client secret for the catalog', secret: true },
  { name: 'ICEBERG_OAUTH2_SERVER_URI', group: 'iceberg', description: 'OAuth2 token endpoint', default: '<ICEBERG_CATALOG_URI>/v1/oauth/tokens' },
  { name: 'ICEBERG_SCOPE', group: 'iceberg', description: 'OAuth2 scope' },
  { name: 'ICEBERG_ACCESS_DELEGATION', group: 'iceberg', description: 'vended-credentials or none', default: 'vended-credentials' },
  { name: 'S3_ENDPOINT', group: 'iceberg', description: 'S3 endpoint (unset for AWS)', default: '(local stack) http://127.0.0.1:9000' },
  { name: 'S3_REGION', group: 'iceberg', description: 'S3 region', default: 'us-east-1' },
  { name: 'S3_PATH_STYLE', group: 'iceberg', description: 'path-style addressing', default: 'false (local stack: true)' },
  { name: 'S3_ACCESS_KEY_ID', group: 'iceberg', description: 'static S3 access key' },
  { name: 'S3_SECRET_ACCESS_KEY', group: 'iceberg', description: 'static S3 secret key', secret: true },
  { name: 'S3_SESSION_TOKEN', group: 'iceberg', description: 'session token of temporary S3 credentials', secret: true },
  { name: 'TEMPORAL_ADDRESS', group: 'temporal', description: 'Temporal frontend host:port', default: '127.0.0.1:7233' },
  { name: 'TEMPORAL_NAMESPACE', group: 'temporal', description: 'Temporal namespace', default: 'default' },
  { name: 'TEMPORAL_TASK_QUEUE', group: 'temporal', description: 'task queue of the worker', default: 'salesforce-sync' },
  { name: 'TEMPORAL_UI_URL', group: 'temporal', description: 'Web UI, for links', default: 'http://127.0.0.1:8233' },
  { name: 'SYNC_LAG_MS', group: 'sync', description: 'the incremental window ends this long before now', default: '60000' },
  { name: 'SALESFORCE_READ_API', group: 'sync', description: 'auto (Bulk API 2.0, REST where Bulk is refused), bulk or rest', default: 'auto' },
  { name: 'SYNC_TIME_TYPE', group: 'sync', description: 'Salesforce time fields as string (HH:MM:SS.sss text, read by every engine) or time (Iceberg time: Spark cannot load such tables); existing columns keep their type', default: 'string' },
  { name: 'SYNC_CHECKPOINT_SECONDS', group: 'sync', description: 'an extraction records a resume point at most this often (each closes a data file)', default: '60' },
  { name: 'DUMP_TO_DUCKDB', group: 'sync', description: 'true: objects land in a local DuckDB file instead of Iceberg (local debugging)', default: 'false' },
  { name: 'DUCKDB_PATH', group: 'sync', description: 'the DuckDB file of DUMP_TO_DUCKDB (schema = namespace)', default: 'salesforce_sync.duckdb' },
  { name: 'SYNC_NAMESPACE', group: 'sync', description: 'Iceberg namespace of npm run demo', default: 'salesforce' },
  { name: 'WORKER_MAX_ACTIVITIES', group: 'sync', description: 'activities a worker runs at once', default: '8' },
];

/** A value as it may be shown: secrets masked. */
export function shown(doc: SettingDoc, value: string | undefined): string {
  if (value === undefined || value === '') return '(not set)';
  return doc.secret ? `set (${value.length} characters, hidden)` : value;
}
