import { z } from 'zod';
import type { CatalogAuth, CatalogOptions } from './catalog';
import type { S3Settings } from '../storage/s3';
import { booleanSetting, httpUrl, integerSetting, parseArea, settingsArea } from '../config/define';
import { ERROR_CODES, SyncError } from '../errors';

/** S3's bucket naming rules (general purpose buckets). */
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a bucket name: 3-63 characters, lower-case letters, digits, dots and hyphens' })
  .refine((v) => !v.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(v), { message: 'must be a bucket name (no "..", not an IP address)' });

/** Settings of the Iceberg destination: the catalog and the object store behind it. */
export const icebergArea = settingsArea('iceberg', {
  ICEBERG_CATALOG_URI: { schema: httpUrl('an Iceberg REST catalog'), description: 'Iceberg REST catalog base URI', note: '(local stack) http://127.0.0.1:8181/iceberg' },
  ICEBERG_WAREHOUSE: { schema: z.string().optional(), description: 'warehouse name sent to GET /v1/config', note: '(local stack) warehouse' },
  ICEBERG_TOKEN: { schema: z.string().optional(), description: 'bearer token for the catalog', secret: true },
  ICEBERG_CLIENT_ID: { schema: z.string().optional(), description: 'OAuth2 client id for the catalog' },
  ICEBERG_CLIENT_SECRET: { schema: z.string().optional(), description: 'OAuth2 client secret for the catalog', secret: true },
  ICEBERG_OAUTH2_SERVER_URI: {
    schema: httpUrl('an OAuth2 token endpoint').optional(),
    description: 'OAuth2 token endpoint of the client credentials',
    note: '<ICEBERG_CATALOG_URI>/v1/oauth/tokens',
  },
  ICEBERG_SCOPE: { schema: z.string().optional(), description: 'OAuth2 scope of the client credentials (e.g. PRINCIPAL_ROLE:ALL for Polaris)' },
  ICEBERG_ACCESS_DELEGATION: {
    schema: z.enum(['vended-credentials,remote-signing', 'vended-credentials', 'remote-signing', 'none'], {
      message: 'must be vended-credentials,remote-signing, vended-credentials, remote-signing or none',
    }),
    description:
      'what the catalog is asked for (X-Iceberg-Access-Delegation): per-table S3 credentials it vends, and/or signing of S3 requests through it (used when it answers so); none: neither (static S3 keys)',
    default: 'vended-credentials,remote-signing',
  },
  ICEBERG_REFRESH_MARGIN_SECONDS: {
    schema: integerSetting(0),
    description:
      "how long before they expire vended storage credentials (from the catalog's loadCredentials endpoint, else a table reload) and OAuth2 tokens (at most half their lifetime ahead) are replaced",
    default: '300',
  },
  S3_ENDPOINT: {
    schema: httpUrl('an S3 service').optional(),
    description: 'S3 endpoint (unset for AWS; wins over the one a catalog advertises)',
    note: '(local stack) http://127.0.0.1:9000',
  },
  S3_REGION: { schema: z.string().optional(), description: 'S3 region', note: "the catalog's client.region, else us-east-1" },
  S3_PATH_STYLE: { schema: booleanSetting, description: 'path-style addressing (true for MinIO)', default: 'false', note: 'local stack: true' },
  S3_BUCKET: {
    schema: bucketName.optional(),
    description:
      "bucket holding the warehouse: npm run check verifies it exists, that the catalog's warehouse location is in it, and writes, reads and deletes a probe object there",
    note: '(local stack) warehouse',
  },
  S3_ACCESS_KEY_ID: { schema: z.string().optional(), description: 'static S3 access key' },
  S3_SECRET_ACCESS_KEY: { schema: z.string().optional(), description: 'static S3 secret key', secret: true },
  S3_SESSION_TOKEN: { schema: z.string().optional(), description: 'session token of temporary static S3 credentials', secret: true },
});

export type IcebergSettings = z.output<typeof icebergArea.schema>;

/** Problems between variables (each valid alone), named by variable. */
function crossProblems(s: Record<string, string | undefined>): string[] {
  const has = (name: string) => !!s[name]?.trim();
  const problems: string[] = [];
  if (has('ICEBERG_TOKEN') && (has('ICEBERG_CLIENT_ID') || has('ICEBERG_CLIENT_SECRET'))) {
    problems.push('set either ICEBERG_TOKEN (bearer token) or ICEBERG_CLIENT_ID + ICEBERG_CLIENT_SECRET (OAuth2 client credentials), not both');
  }
  if (has('ICEBERG_CLIENT_ID') !== has('ICEBERG_CLIENT_SECRET')) problems.push('OAuth2 client credentials need both ICEBERG_CLIENT_ID and ICEBERG_CLIENT_SECRET');
  for (const name of ['ICEBERG_OAUTH2_SERVER_URI', 'ICEBERG_SCOPE']) {
    if (has(name) && !has('ICEBERG_CLIENT_ID'))
      problems.push(`${name} is used only with ICEBERG_CLIENT_ID + ICEBERG_CLIENT_SECRET (OAuth2 client credentials): set them or unset ${name}`);
  }
  if (has('S3_ACCESS_KEY_ID') !== has('S3_SECRET_ACCESS_KEY')) problems.push('static S3 credentials need both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  if (has('S3_SESSION_TOKEN') && !has('S3_ACCESS_KEY_ID'))
    problems.push('S3_SESSION_TOKEN is used only with S3_ACCESS_KEY_ID + S3_SECRET_ACCESS_KEY: set them or unset S3_SESSION_TOKEN');
  return problems;
}

/** Every problem of the Iceberg destination settings (empty when they are valid). */
export function icebergSettingsProblems(env: Record<string, string | undefined>): string[] {
  return [...parseArea(icebergArea, env).problems, ...crossProblems(env)];
}

/** Validates the settings; the error lists every problem by variable name (never a secret's value). */
export function parseIcebergSettings(env: Record<string, string | undefined>): IcebergSettings {
  const parsed = parseArea(icebergArea, env);
  const problems = [...parsed.problems, ...crossProblems(env)];
  if (!parsed.ok || problems.length > 0)
    throw new SyncError(`Invalid Iceberg destination settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  return parsed.value;
}

export function catalogOptions(s: IcebergSettings): CatalogOptions {
  let auth: CatalogAuth = { kind: 'none' };
  if (s.ICEBERG_TOKEN) auth = { kind: 'token', token: s.ICEBERG_TOKEN };
  else if (s.ICEBERG_CLIENT_ID && s.ICEBERG_CLIENT_SECRET) {
    auth = { kind: 'oauth2', clientId: s.ICEBERG_CLIENT_ID, clientSecret: s.ICEBERG_CLIENT_SECRET, serverUri: s.ICEBERG_OAUTH2_SERVER_URI, scope: s.ICEBERG_SCOPE };
  }
  return {
    uri: s.ICEBERG_CATALOG_URI,
    warehouse: s.ICEBERG_WAREHOUSE,
    auth,
    accessDelegation: s.ICEBERG_ACCESS_DELEGATION,
    refreshMarginMs: s.ICEBERG_REFRESH_MARGIN_SECONDS * 1000,
  };
}

export function s3Settings(s: IcebergSettings): S3Settings {
  return {
    endpoint: s.S3_ENDPOINT,
    region: s.S3_REGION,
    pathStyle: s.S3_PATH_STYLE,
    accessKeyId: s.S3_ACCESS_KEY_ID,
    secretAccessKey: s.S3_SECRET_ACCESS_KEY,
    sessionToken: s.S3_SESSION_TOKEN,
  };
}
