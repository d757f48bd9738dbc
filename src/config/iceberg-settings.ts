import { z } from 'zod';
import type { CatalogAuth, CatalogOptions } from '../iceberg/catalog';
import type { S3Settings } from '../storage/s3';

/** Settings of the Iceberg destination: the catalog and the object store behind it. */
export const icebergSettingsSchema = z
  .object({
    ICEBERG_CATALOG_URI: z.url({ message: 'ICEBERG_CATALOG_URI must be the http(s) URL of an Iceberg REST catalog' }),
    ICEBERG_WAREHOUSE: z.string().min(1).optional(),
    ICEBERG_TOKEN: z.string().min(1).optional(),
    ICEBERG_CLIENT_ID: z.string().min(1).optional(),
    ICEBERG_CLIENT_SECRET: z.string().min(1).optional(),
    ICEBERG_OAUTH2_SERVER_URI: z.url().optional(),
    ICEBERG_SCOPE: z.string().min(1).optional(),
    ICEBERG_ACCESS_DELEGATION: z.enum(['vended-credentials', 'none']).default('vended-credentials'),
    S3_ENDPOINT: z.url().optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_PATH_STYLE: z.enum(['true', 'false']).default('false'),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_SESSION_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.ICEBERG_TOKEN && (s.ICEBERG_CLIENT_ID || s.ICEBERG_CLIENT_SECRET)) {
      ctx.addIssue({ code: 'custom', message: 'set either ICEBERG_TOKEN (bearer token) or ICEBERG_CLIENT_ID + ICEBERG_CLIENT_SECRET (OAuth2 client credentials), not both' });
    }
    if (!!s.ICEBERG_CLIENT_ID !== !!s.ICEBERG_CLIENT_SECRET) {
      ctx.addIssue({ code: 'custom', message: 'OAuth2 client credentials need both ICEBERG_CLIENT_ID and ICEBERG_CLIENT_SECRET' });
    }
    if (!!s.S3_ACCESS_KEY_ID !== !!s.S3_SECRET_ACCESS_KEY) {
      ctx.addIssue({ code: 'custom', message: 'static S3 credentials need both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY' });
    }
  });

export type IcebergSettings = z.infer<typeof icebergSettingsSchema>;

/** Validates the settings; the error lists every problem by variable name (never a value). */
export function parseIcebergSettings(env: Record<string, string | undefined>): IcebergSettings {
  const result = icebergSettingsSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new Error(`Invalid Iceberg destination settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

export function catalogOptions(s: IcebergSettings): CatalogOptions {
  let auth: CatalogAuth = { kind: 'none' };
  if (s.ICEBERG_TOKEN) auth = { kind: 'token', token: s.ICEBERG_TOKEN };
  else if (s.ICEBERG_CLIENT_ID && s.ICEBERG_CLIENT_SECRET) {
    auth = { kind: 'oauth2', clientId: s.ICEBERG_CLIENT_ID, clientSecret: s.ICEBERG_CLIENT_SECRET, serverUri: s.ICEBERG_OAUTH2_SERVER_URI, scope: s.ICEBERG_SCOPE };
  }
  return { uri: s.ICEBERG_CATALOG_URI, warehouse: s.ICEBERG_WAREHOUSE, auth, accessDelegation: s.ICEBERG_ACCESS_DELEGATION };
}

export function s3Settings(s: IcebergSettings): S3Settings {
  return {
    endpoint: s.S3_ENDPOINT,
    region: s.S3_REGION,
    pathStyle: s.S3_PATH_STYLE === 'true',
    accessKeyId: s.S3_ACCESS_KEY_ID,
    secretAccessKey: s.S3_SECRET_ACCESS_KEY,
    sessionToken: s.S3_SESSION_TOKEN,
  };
}
