/**
 * The preflight (`npm run check`, the worker at start, the demo): named checks that each log in,
 * read or write what a sync will, and say what to fix when they cannot. Every check has a time
 * limit and fails in seconds with a message naming variables, never a secret's value. No Temporal
 * here: the worker adds its Temporal check (worker/preflight.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { catalogOptions, icebergSettingsProblems, parseIcebergSettings, s3Settings } from '../iceberg/settings';
import { SETTINGS, settingsProblems } from '../settings/settings';
import { syncArea } from '../sync/settings';
import { duckdbArea, duckdbMode } from '../destinations/duckdb-settings';
import { preflightArea } from './settings';
import type { SettingsArea, SettingSpec } from '../config/define';
import { RestCatalog } from '../iceberg/catalog';
import { BadRequestError, CatalogError, CatalogUnavailableError, ForbiddenError, NotFoundError, UnauthorizedError } from '../iceberg/errors';
import { ERROR_CODES, SyncError } from '../errors';
import { connectionFailure } from '../net';
import { SalesforceAuthError, SalesforceUnreachableError, authenticate, type Session } from '../salesforce/auth';
import { SalesforceApiError, SalesforceClient } from '../salesforce/client';
import { UnknownObjectError, cursorField, describeObject, syncableFields } from '../salesforce/describe';
import { HIDDEN_FIELDS_FIX, findHiddenFields } from '../salesforce/hidden-fields';
import { AUTH_METHODS, parseSalesforceSettings, salesforceEnv, salesforceSettingsProblems, type SalesforceSettings } from '../salesforce/settings';
import { s3SettingsFor } from '../storage/s3';
import { SignerRefusedError } from '../storage/remote-signer';
import { tableStores } from '../iceberg/connect';
import { credentialsExpiry, loadedStorageConfig, storageAccessMode, type StorageAccessMode } from '../iceberg/credentials';
import type { LoadTableResult } from '../iceberg/catalog';

/** `warning`: the check passed, but found something a sync will leave out (it does not fail the preflight). */
export type CheckStatus = 'ok' | 'warning' | 'problem' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found (ok), what is wrong (problem) or why the check did not run (skipped). */
  message: string;
  /** What to do about a problem (or a warning). */
  fix?: string;
  ms: number;
}

/** A check that found a problem: what is wrong, and what to do. */
export class CheckFailure extends SyncError {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message, { code: ERROR_CODES.CHECK_FAILED, retryable: false });
    this.name = 'CheckFailure';
  }
}

/** A check that cannot run (what it needs failed or does not apply). */
export class CheckSkipped extends SyncError {
  constructor(message: string) {
    super(message, { code: ERROR_CODES.CHECK_SKIPPED, retryable: false });
    this.name = 'CheckSkipped';
  }
}

/** What the checks share: the settings, the time limit, and what earlier checks found. */
export interface PreflightContext {
  env: Record<string, string | undefined>;
  /** Aborts the current check's requests when its time is up. */
  signal: AbortSignal;
  timeoutMs: number;
  salesforce?: { settings: SalesforceSettings; session: Session };
  catalog?: RestCatalog;
  /** Where the storage check writes its probe (the warehouse location, else s3://S3_BUCKET/). */
  probeBase?: string;
  /** Also query PREFLIGHT_OBJECT's fields for those the integration user cannot see (`npm run check`; a starting worker does not read data). */
  hiddenFields?: boolean;
}

export interface Check {
  name: string;
  /** Checks of one chain run in order, each seeing what the earlier found; chains run side by side. */
  chain: string;
  /** What to do when the check gets no answer within its time limit. */
  timeoutFix: string;
  /** Resolves with what was found (with a warning and its fix, when it found something to look at); throws CheckFailure, CheckSkipped or any error (a problem). */
  run(ctx: PreflightContext): Promise<string | CheckWarning>;
}

/** What a check that passed found worth a warning, and what to do about it. */
export interface CheckWarning {
  warning: string;
  fix: string;
}

/** The settings of an area that a check needs; skipped (not failed again) when the settings check already failed on them. */
function settingsFor<S extends Record<string, SettingSpec>>(area: SettingsArea<S>, env: Record<string, string | undefined>) {
  if (area.problems(env).length > 0) throw new CheckSkipped(`the ${area.group} settings have problems (see settings)`);
  return area.parse(env);
}

const sec = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const has = (env: Record<string, string | undefined>, name: string) => !!env[name]?.trim();

// ---------------------------------------------------------------------------------------------
// settings

const settingsCheck: Check = {
  name: 'settings',
  chain: 'settings',
  timeoutFix: '',
  async run({ env }) {
    const problems = settingsProblems(env);
    if (problems.length > 0) {
      throw new CheckFailure(
        `${problems.length === 1 ? 'a problem' : `${problems.length} problems`}: ${problems.join('; ')}`,
        'fix the variables named (npm run env lists every setting with its meaning and default)',
      );
    }
    return `every setting is valid${duckdbMode(env) ? ' (DuckDB mode: no catalog or S3 needed)' : ''}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Salesforce

const domainVar = (env: Record<string, string | undefined>) =>
  has(env, salesforceEnv.domain) || !has(env, salesforceEnv.credentialsDomain) ? salesforceEnv.domain : salesforceEnv.credentialsDomain;

const salesforceLogin: Check = {
  name: 'salesforce-login',
  chain: 'salesforce',
  timeoutFix: `check ${salesforceEnv.domain}: login, test, your My Domain or the URL of your login server, reachable from here`,
  async run(ctx) {
    if (salesforceSettingsProblems(ctx.env).length > 0) throw new CheckSkipped('the Salesforce settings have problems (see settings)');
    const settings = parseSalesforceSettings(ctx.env);
    const method = settings.auth.kind;
    try {
      const session = await authenticate(settings, ctx.signal);
      ctx.salesforce = { settings, session };
    } catch (error) {
      if (error instanceof SalesforceUnreachableError) {
        throw new CheckFailure(error.message, `check ${domainVar(ctx.env)} (login, test, your My Domain such as acme.my, or the URL of your login server)`);
      }
      if (error instanceof SalesforceAuthError) {
        if (error.reason === 'KEY' || error.reason === 'KEY_FILE')
          throw new CheckFailure(
            error.message,
            `give the RSA private key of the connected app's certificate, in PEM form, in ${salesforceEnv.privateKey} or ${salesforceEnv.privateKeyFile}`,
          );
        const spec = AUTH_METHODS[method];
        const vars = [...spec.required, ...(spec.oneOf ?? [])].map((k) => salesforceEnv[k]).join(', ');
        const tokenHint = method === 'SecurityToken' ? ' (a password change resets the security token)' : '';
        throw new CheckFailure(
          error.message,
          `check the ${method} variables ${vars}${tokenHint} and ${domainVar(ctx.env)} (production login, test for sandboxes, or your My Domain)`,
        );
      }
      throw error;
    }
    const who = 'username' in settings.auth ? ` as ${settings.auth.username}` : '';
    return method === 'InstanceAuth'
      ? `InstanceAuth: the session is used as given at ${ctx.salesforce.session.instanceUrl} (the describe check tries it)`
      : `${method} login${who} at ${settings.loginUrl}; instance ${ctx.salesforce.session.instanceUrl}`;
  },
};

const salesforceDescribe: Check = {
  name: 'salesforce-describe',
  chain: 'salesforce',
  timeoutFix: 'the Salesforce instance did not answer a describe in time: try again, or raise PREFLIGHT_TIMEOUT_SECONDS',
  async run(ctx) {
    if (!ctx.salesforce) throw new CheckSkipped('needs a Salesforce login');
    const object = settingsFor(preflightArea, ctx.env).PREFLIGHT_OBJECT;
    const client = new SalesforceClient(ctx.salesforce.settings, { maxAttempts: 1, signal: ctx.signal }, { session: Promise.resolve(ctx.salesforce.session) });
    try {
      const d = await describeObject(client, object);
      const cursor = cursorField(d);
      // The sync's own check of what the integration user can read (src/salesforce/hidden-fields.ts); only where asked.
      const { hidden, unchecked } = ctx.hiddenFields ? await findHiddenFields(client, d, syncableFields(d)) : { hidden: [], unchecked: undefined };
      const found = `${d.name}: ${d.fields.length} fields, ${syncableFields(d, { hidden }).length} synced; incremental cursor ${cursor ?? 'none (full reads only)'}`;
      if (hidden.length > 0)
        return {
          warning: `${found}; the integration user cannot see ${hidden.length === 1 ? 'field' : `${hidden.length} fields`} ${hidden.join(', ')} (field-level security): a sync leaves ${hidden.length === 1 ? 'it' : 'them'} out`,
          fix: HIDDEN_FIELDS_FIX,
        };
      return unchecked
        ? { warning: `${found}; could not check which fields the integration user can see: ${unchecked}`, fix: `check that the integration user may query ${d.name}` }
        : found;
    } catch (error) {
      if (error instanceof UnknownObjectError) throw new CheckFailure(error.message, 'set PREFLIGHT_OBJECT to an object the integration user may read');
      if (error instanceof SalesforceApiError) {
        if (error.errorCode === 'INVALID_SESSION_ID')
          throw new CheckFailure(client.scrub(error.message), `give a current session in ${salesforceEnv.sessionId}, or use an auth method that can log in`);
        if (error.errorCode === 'CONNECTION')
          throw new CheckFailure(client.scrub(error.message), `check that the instance ${ctx.salesforce.session.instanceUrl} is reachable from here`);
        throw new CheckFailure(client.scrub(error.message), `give the integration user API access and read access to ${object} (or set PREFLIGHT_OBJECT to one it may read)`);
      }
      throw error;
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Iceberg catalog, warehouse, namespace, storage

const skipInDuckdbMode = (env: Record<string, string | undefined>) => {
  if (duckdbMode(env)) throw new CheckSkipped('DUMP_TO_DUCKDB=true: objects go to a DuckDB file, not to a catalog');
};

/** The warehouse's storage location as the catalog advertises it in GET /v1/config (Nessie, the reference catalog do). */
export function warehouseLocation(properties: Record<string, string>): string | undefined {
  const w = properties.warehouse;
  return w && /^[a-z][a-z0-9+.-]*:\/\//i.test(w) ? w : undefined;
}

const icebergCatalog: Check = {
  name: 'catalog',
  chain: 'iceberg',
  timeoutFix: 'check ICEBERG_CATALOG_URI: the server there accepted the connection but did not answer',
  async run(ctx) {
    skipInDuckdbMode(ctx.env);
    if (icebergSettingsProblems(ctx.env).length > 0) throw new CheckSkipped('the Iceberg settings have problems (see settings)');
    const settings = parseIcebergSettings(ctx.env);
    const options = { ...catalogOptions(settings), timeoutMs: ctx.timeoutMs };
    const catalog = new RestCatalog(options);
    const uri = settings.ICEBERG_CATALOG_URI;
    try {
      await catalog.init();
    } catch (error) {
      if (error instanceof CatalogError && /no OAuth2 token endpoint/.test(error.message)) throw new CheckFailure(error.message);
      if (error instanceof UnauthorizedError)
        throw new CheckFailure(
          error.message,
          settings.ICEBERG_TOKEN ? 'give a valid ICEBERG_TOKEN' : 'check ICEBERG_CLIENT_ID / ICEBERG_CLIENT_SECRET (and ICEBERG_SCOPE), or set ICEBERG_TOKEN',
        );
      if (error instanceof ForbiddenError) throw new CheckFailure(error.message, 'the catalog credentials may not read this warehouse: grant them access, or use others');
      // An HTTP error answer (Nessie: 500 "Warehouse 'x' is not known"; others 400 or 404): a wrong
      // warehouse, or no catalog at this URI at all? Ask without the warehouse.
      if (error instanceof CatalogError && error.status !== undefined && settings.ICEBERG_WAREHOUSE) {
        const plain = new RestCatalog({ ...options, warehouse: undefined });
        const catalogAnswers = await plain.init().then(
          () => true,
          () => false,
        );
        if (catalogAnswers) {
          throw new CheckFailure(
            `The catalog at ${uri} does not know warehouse "${settings.ICEBERG_WAREHOUSE}" (ICEBERG_WAREHOUSE): ${error.message}`,
            'set ICEBERG_WAREHOUSE to a warehouse this catalog has',
          );
        }
      }
      if (error instanceof NotFoundError || error instanceof BadRequestError) {
        throw new CheckFailure(
          `No Iceberg REST catalog answers at ${uri}: ${error.message}`,
          'set ICEBERG_CATALOG_URI to the REST base URI, the part before /v1/config (Nessie: http://host:19120/iceberg)',
        );
      }
      if (error instanceof CatalogUnavailableError) {
        const tokenEndpoint = /token endpoint/.test(error.message);
        throw new CheckFailure(
          error.message,
          tokenEndpoint && settings.ICEBERG_OAUTH2_SERVER_URI
            ? 'check ICEBERG_OAUTH2_SERVER_URI'
            : `check ICEBERG_CATALOG_URI: is the catalog running, and is this its address?${tokenEndpoint ? ' (the token endpoint is <ICEBERG_CATALOG_URI>/v1/oauth/tokens unless ICEBERG_OAUTH2_SERVER_URI says otherwise)' : ''}`,
        );
      }
      throw error;
    }
    ctx.catalog = catalog;
    const location = warehouseLocation(catalog.properties);
    return `GET /v1/config answered${settings.ICEBERG_WAREHOUSE ? ` for warehouse ${settings.ICEBERG_WAREHOUSE}` : ''}${location ? `; warehouse location ${location}` : ''}`;
  },
};

/** An S3 client as a sync's would be (static settings, the catalog's overrides), trying each request once. */
function s3Client(ctx: PreflightContext): { client: S3Client; s3: ReturnType<typeof s3SettingsFor> } {
  const s3 = s3SettingsFor(s3Settings(parseIcebergSettings(ctx.env)), ctx.catalog?.properties ?? {});
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region ?? 'us-east-1',
    forcePathStyle: s3.pathStyle,
    credentials: s3.accessKeyId && s3.secretAccessKey ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, sessionToken: s3.sessionToken } : undefined,
    maxAttempts: 1,
  });
  return { client, s3 };
}

const bucketOf = (uri: string) => /^s3a?:\/\/([^/]+)/.exec(uri)?.[1];

const warehouse: Check = {
  name: 'warehouse',
  chain: 'iceberg',
  timeoutFix: '',
  async run(ctx) {
    skipInDuckdbMode(ctx.env);
    if (!ctx.catalog) throw new CheckSkipped('needs the catalog configuration');
    const location = warehouseLocation(ctx.catalog.properties);
    const bucket = ctx.env.S3_BUCKET?.trim() || undefined;
    if (location) {
      const inBucket = bucketOf(location);
      if (!inBucket) {
        throw new CheckFailure(
          `The catalog's warehouse is at ${location}, not on S3: this product writes through S3 only`,
          'use a warehouse whose location is s3://... (ICEBERG_WAREHOUSE)',
        );
      }
      if (bucket && bucket !== inBucket) {
        // Say whether S3_BUCKET names a bucket at all: a typo, or another bucket.
        const { client, s3 } = s3Client(ctx);
        const exists = await client
          .send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal })
          .then(
            () => true,
            (e: { $metadata?: { httpStatusCode?: number } }) => (e.$metadata?.httpStatusCode === 404 ? false : undefined),
          )
          .finally(() => client.destroy());
        const what = exists === false ? `names a bucket that does not exist${s3.endpoint ? ` at ${s3.endpoint}` : ''}` : 'names another bucket';
        throw new CheckFailure(`S3_BUCKET=${bucket} ${what}: the catalog's warehouse is at ${location}`, `set S3_BUCKET=${inBucket} (or unset it), or check ICEBERG_WAREHOUSE`);
      }
      ctx.probeBase = location;
      return `tables go under ${location}${bucket ? ` (in S3_BUCKET ${bucket})` : ''}`;
    }
    if (bucket) {
      ctx.probeBase = `s3://${bucket}/`;
      return `the catalog does not advertise a warehouse location; the storage check uses S3_BUCKET ${bucket}`;
    }
    throw new CheckSkipped(
      'the catalog does not advertise its warehouse location and S3_BUCKET is not set: set S3_BUCKET to the bucket of the warehouse to have its storage checked',
    );
  },
};

const namespace: Check = {
  name: 'namespace',
  chain: 'iceberg',
  timeoutFix: 'the catalog did not answer in time: try again, or raise PREFLIGHT_TIMEOUT_SECONDS',
  async run(ctx) {
    skipInDuckdbMode(ctx.env);
    if (!ctx.catalog) throw new CheckSkipped('needs the catalog configuration');
    const name = settingsFor(syncArea, ctx.env).SYNC_NAMESPACE;
    const levels = name.split('.');
    try {
      if (await ctx.catalog.namespaceExists(levels)) return `${name} exists (${(await ctx.catalog.listTables(levels)).length} tables)`;
      // Catalogs such as Nessie create a namespace only inside an existing parent; a sync creates only the namespace itself.
      for (let i = 1; i < levels.length; i++) {
        const parent = levels.slice(0, i);
        if (!(await ctx.catalog.namespaceExists(parent))) {
          throw new CheckFailure(
            `The namespace ${name} does not exist, nor its parent ${parent.join('.')}: a sync creates only ${name}, and catalogs may refuse it without its parent`,
            `create the namespace ${parent.join('.')} first, or use a one-level SYNC_NAMESPACE`,
          );
        }
      }
      return `${name} does not exist yet: the first sync creates it`;
    } catch (error) {
      if (error instanceof ForbiddenError || error instanceof UnauthorizedError)
        throw new CheckFailure(error.message, `give the catalog credentials access to the namespace ${name}`);
      throw error;
    }
  },
};

/** S3 errors in words a person can act on: which variable to look at. */
function storageFailure(error: unknown, where: { uri: string; endpoint?: string; bucket: string }): CheckFailure {
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
  const code = e.name;
  const at = where.endpoint ? ` at ${where.endpoint}` : '';
  switch (code) {
    case 'SignatureDoesNotMatch':
      return new CheckFailure(
        `S3${at} refused the request signature (SignatureDoesNotMatch): the secret key does not belong to the access key`,
        'check S3_SECRET_ACCESS_KEY (and S3_ACCESS_KEY_ID)',
      );
    case 'InvalidAccessKeyId':
      return new CheckFailure(`S3${at} does not know the access key (InvalidAccessKeyId)`, 'check S3_ACCESS_KEY_ID');
    case 'NoSuchBucket':
      return new CheckFailure(
        `The bucket ${where.bucket} does not exist${at} (NoSuchBucket)`,
        `create the bucket ${where.bucket}, or fix ${where.uri.startsWith(`s3://${where.bucket}/`) ? 'S3_BUCKET / the warehouse location of the catalog' : 'S3_BUCKET'}${where.endpoint ? ' or S3_ENDPOINT' : ''}`,
      );
    case 'AccessDenied':
      return new CheckFailure(
        `S3${at} denied writing, reading or deleting ${where.uri} (AccessDenied)`,
        'give the S3 credentials read, write and delete rights on the warehouse location',
      );
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return new CheckFailure(`S3${at} says the bucket ${where.bucket} is in another region (${code})`, 'set S3_REGION to the region of the bucket');
    case 'CredentialsProviderError':
      return new CheckFailure(
        'No S3 credentials: none are configured, the catalog vended none in its configuration, and the environment has none',
        'set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
      );
  }
  if (e.$metadata?.httpStatusCode) {
    return new CheckFailure(
      `S3${at} answered HTTP ${e.$metadata.httpStatusCode} ${code}${e.message && e.message !== code && e.message !== 'UnknownError' ? `: ${e.message}` : ''}`,
      'check the S3_* settings',
    );
  }
  return new CheckFailure(
    `Could not reach S3${at}: ${connectionFailure(error, where.endpoint ? new URL(where.endpoint).host : undefined)}`,
    where.endpoint ? 'check S3_ENDPOINT: is the S3 service running, and is this its address?' : 'check S3_REGION and the network',
  );
}

/**
 * A table whose catalog answer says how its storage is reached: the sync namespace's first table,
 * else a staged (never committed) probe table there; undefined when the namespace does not exist yet.
 */
async function tableToAsk(ctx: PreflightContext): Promise<{ loaded: LoadTableResult; what: string } | undefined> {
  if (!ctx.catalog || syncArea.problems(ctx.env).length > 0) return undefined;
  const levels = syncArea.parse(ctx.env).SYNC_NAMESPACE.split('.');
  try {
    if (!(await ctx.catalog.namespaceExists(levels))) return undefined;
    const first = (await ctx.catalog.listTables(levels))[0];
    if (first) return { loaded: await ctx.catalog.loadTable(levels, first), what: `table ${[...levels, first].join('.')}` };
    const name = `_sf_iceberg_preflight_${crypto.randomBytes(4).toString('hex')}`;
    const staged = await ctx.catalog.createTable(levels, {
      name,
      schema: { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: false, type: 'string' }] },
      'stage-create': true,
    });
    return { loaded: staged, what: `a staged (uncommitted) table in ${levels.join('.')}` };
  } catch (error) {
    if (error instanceof CatalogError) return undefined; // the namespace check reports the catalog's refusals
    throw error;
  }
}

const modeWords: Record<StorageAccessMode, string> = { static: 'static keys', vended: 'vended by the catalog', signed: 'remote-signed by the catalog' };

/** Writes, reads and deletes a probe under a table's location with the store a sync would use for it. */
async function probeThroughCatalog(ctx: PreflightContext, asked: { loaded: LoadTableResult; what: string }, mode: StorageAccessMode): Promise<string> {
  const config = loadedStorageConfig(ctx.catalog!.properties, asked.loaded);
  const store = tableStores(ctx.catalog!, ctx.env)(asked.loaded);
  const uri = `${asked.loaded.metadata.location.replace(/\/*$/, '/')}_sf_iceberg_preflight/${crypto.randomUUID()}.txt`;
  const [, bucket] = /^s3a?:\/\/([^/]+)\//.exec(uri) ?? [];
  const s3 = s3SettingsFor(s3Settings(parseIcebergSettings(ctx.env)), config);
  const body = new TextEncoder().encode(`sf-iceberg preflight ${new Date().toISOString()}`);
  const expiry = credentialsExpiry(config);
  try {
    await store.put(uri, body, 'text/plain');
    const back = await store.get(uri);
    if (Buffer.compare(Buffer.from(back), Buffer.from(body)) !== 0)
      throw new CheckFailure(`Reading back ${uri} gave other bytes than were written`, 'check S3_ENDPOINT: it does not behave like S3');
    await store.delete([uri]);
    if (await store.exists(uri))
      throw new CheckFailure(`${uri} is still there after it was deleted`, 'the storage access the catalog gives must allow deletes (a sync removes the files of failed attempts)');
  } catch (error) {
    if (error instanceof CheckFailure) throw error;
    if (error instanceof SignerRefusedError) {
      throw new CheckFailure(
        `remote signing: ${error.message}`,
        "give this catalog principal read and write access to the table's location in the catalog (its signer signs only what the principal may do)",
      );
    }
    const e = error as Error & { name?: string };
    if (mode === 'vended' && (e.name === 'AccessDenied' || e.name === 'InvalidAccessKeyId' || e.name === 'ExpiredToken' || e.name === 'InvalidTokenId')) {
      throw new CheckFailure(
        `vended credentials: the credentials the catalog vended for ${asked.what} cannot write, read or delete ${uri} (${e.name})`,
        "the catalog's storage role or session policy must allow writing, reading and deleting under the table's location",
      );
    }
    if (ctx.signal.aborted) throw error;
    throw storageFailure(error, { uri, endpoint: s3.endpoint, bucket: bucket ?? '' });
  }
  const lifetime = expiry === undefined ? '' : `, valid for ${Math.max(0, Math.round((expiry - Date.now()) / 60_000))} more min and renewed before they expire`;
  return `storage access ${modeWords[mode]} (asked for ${asked.what}${lifetime}): wrote, read and deleted ${uri}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`;
}

const storage: Check = {
  name: 'storage',
  chain: 'iceberg',
  timeoutFix: 'check S3_ENDPOINT (the S3 service accepted the connection but did not answer)',
  async run(ctx) {
    skipInDuckdbMode(ctx.env);
    if (!ctx.probeBase) throw new CheckSkipped(ctx.catalog ? 'no storage location to probe (see warehouse)' : 'needs the catalog configuration');
    // Vended or signed: what the catalog says for a table decides, as it does for a sync.
    const asked = await tableToAsk(ctx);
    if (asked) {
      const mode = storageAccessMode(loadedStorageConfig(ctx.catalog!.properties, asked.loaded));
      if (mode !== 'static') return probeThroughCatalog(ctx, asked, mode);
    }
    const settings = parseIcebergSettings(ctx.env);
    if (!asked && !settings.S3_ACCESS_KEY_ID && !ctx.env.AWS_ACCESS_KEY_ID && !ctx.env.AWS_PROFILE) {
      throw new CheckSkipped(
        `no S3 keys are set and the namespace ${syncArea.problems(ctx.env).length === 0 ? syncArea.parse(ctx.env).SYNC_NAMESPACE : 'of the syncs'} has no table yet to ask the catalog for its storage access (vended or remote-signed): the first sync shows it, or set S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY`,
      );
    }
    const { client, s3 } = s3Client(ctx);
    const uri = `${ctx.probeBase.replace(/\/*$/, '/')}_sf_iceberg_preflight/${crypto.randomUUID()}.txt`;
    const [, bucket, key] = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
    const where = { uri, endpoint: s3.endpoint, bucket: bucket!, key: key! };
    const body = `sf-iceberg preflight ${new Date().toISOString()}`;
    const opts = { abortSignal: ctx.signal };
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }), opts);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), opts);
      const text = await got.Body!.transformToString();
      if (text !== body) throw new CheckFailure(`Reading back ${uri} gave other bytes than were written`, 'check S3_ENDPOINT: it does not behave like S3');
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), opts);
      const gone = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), opts).then(
        () => false,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404,
      );
      if (!gone) throw new CheckFailure(`${uri} is still there after it was deleted`, 'give the S3 credentials the right to delete (a sync removes the files of failed attempts)');
      return `storage access ${modeWords.static}: wrote, read and deleted ${uri}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`;
    } catch (error) {
      if (error instanceof CheckFailure) throw error;
      if (ctx.signal.aborted) throw error;
      throw storageFailure(error, where);
    } finally {
      client.destroy();
    }
  },
};

// ---------------------------------------------------------------------------------------------
// DuckDB mode

const duckdbFile: Check = {
  name: 'duckdb',
  chain: 'iceberg',
  timeoutFix: '',
  async run({ env }) {
    if (!duckdbMode(env)) throw new CheckSkipped('DUMP_TO_DUCKDB is not true: objects go to Iceberg');
    const file = path.resolve(settingsFor(duckdbArea, env).DUCKDB_PATH);
    const dir = path.dirname(file);
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (error) {
      throw new CheckFailure(
        `Cannot write to ${dir}, the folder of the DuckDB file (${(error as NodeJS.ErrnoException).code})`,
        'set DUCKDB_PATH to a file in a folder this user may write to',
      );
    }
    return `${file} ${fs.existsSync(file) ? 'exists' : 'will be created'}`;
  },
};

/** The checks that need no Temporal, in the order they are shown. */
export function preflightChecks(): Check[] {
  return [settingsCheck, salesforceLogin, salesforceDescribe, icebergCatalog, warehouse, namespace, storage, duckdbFile];
}

/** Every secret value in the settings (for scrubbing what the checks say). */
function secretValues(env: Record<string, string | undefined>): string[] {
  return SETTINGS.filter((s) => s.secret)
    .map((s) => env[s.name]?.trim())
    .filter((v): v is string => !!v && v.length >= 4)
    .flatMap((v) => [v, v.replace(/\\n/g, '\n')]);
}

/**
 * Runs the checks: chains side by side, each chain's checks in order with a time limit each.
 * `onResult` sees the results in the order of `checks` as soon as they are known.
 */
export async function runPreflight(
  env: Record<string, string | undefined>,
  opts: { checks?: Check[]; timeoutMs?: number; onResult?: (result: CheckResult) => void; hiddenFields?: boolean } = {},
): Promise<CheckResult[]> {
  const checks = opts.checks ?? preflightChecks();
  const timeoutMs = opts.timeoutMs ?? (preflightArea.problems(env).length === 0 ? preflightArea.parse(env).PREFLIGHT_TIMEOUT_SECONDS * 1000 : 10_000);
  const secrets = secretValues(env);
  const scrub = (text: string | undefined) => (text === undefined ? undefined : secrets.reduce((t, s) => t.split(s).join('***'), text));
  const shared: Omit<PreflightContext, 'signal' | 'timeoutMs'> = { env, ...(opts.hiddenFields ? { hiddenFields: true } : {}) };

  const runOne = async (check: Check): Promise<CheckResult> => {
    const started = Date.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const ctx = new Proxy(shared as PreflightContext, {
      get: (target, key) => (key === 'signal' ? controller.signal : key === 'timeoutMs' ? timeoutMs : Reflect.get(target, key)),
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(new SyncError('time limit', { code: ERROR_CODES.CHECK_FAILED, retryable: false }));
        reject(new CheckFailure(`no answer within ${sec(timeoutMs)} (PREFLIGHT_TIMEOUT_SECONDS)`, check.timeoutFix || undefined));
      }, timeoutMs);
    });
    const done = (status: CheckStatus, message: string, fix?: string): CheckResult => ({
      name: check.name,
      status,
      message: scrub(message)!,
      ...(fix ? { fix: scrub(fix) } : {}),
      ms: Date.now() - started,
    });
    try {
      const found = await Promise.race([check.run(ctx), timedOut]);
      return typeof found === 'string' ? done('ok', found) : done('warning', found.warning, found.fix);
    } catch (error) {
      if (error instanceof CheckSkipped) return done('skipped', error.message);
      if (error instanceof CheckFailure) return done('problem', error.message, error.fix);
      if (controller.signal.aborted) return done('problem', `no answer within ${sec(timeoutMs)} (PREFLIGHT_TIMEOUT_SECONDS)`, check.timeoutFix || undefined);
      return done('problem', (error as Error).message ?? String(error));
    } finally {
      clearTimeout(timer);
    }
  };

  // Chains run side by side; a chain's checks one after the other.
  const results = new Map<Check, Promise<CheckResult>>();
  const tails = new Map<string, Promise<unknown>>();
  for (const check of checks) {
    const previous = tails.get(check.chain) ?? Promise.resolve();
    const result = previous.then(() => runOne(check));
    results.set(check, result);
    tails.set(check.chain, result);
  }
  const out: CheckResult[] = [];
  for (const check of checks) {
    const result = await results.get(check)!;
    opts.onResult?.(result);
    out.push(result);
  }
  return out;
}

/** One line per check: `ok|FAIL|skip  name  message -> fix  (time)`. */
export function formatResult(r: CheckResult): string {
  const label = { ok: 'ok  ', warning: 'WARN', problem: 'FAIL', skipped: 'skip' }[r.status];
  return `${label}  ${r.name.padEnd(19)} ${r.message}${r.fix ? ` -> fix: ${r.fix}` : ''}${r.status === 'skipped' ? '' : `  (${sec(r.ms)})`}`;
}

export const preflightFailed = (results: CheckResult[]) => results.some((r) => r.status === 'problem');
