import type { AwsCredentialIdentity } from '@smithy/types';
import type { LoadTableResult, Namespace, RestCatalog, StorageCredential } from './catalog';
import { ERROR_CODES, SyncError } from '../errors';

/** How a table's storage is reached: keys the worker holds, keys the catalog vends, or the catalog signing each request. */
export type StorageAccessMode = 'static' | 'vended' | 'signed';

/**
 * The storage settings that apply to a table location: catalog-wide properties, then the table's
 * `config`, then the longest `storage-credentials` prefix the location falls under.
 */
export function tableStorageConfig(catalogProperties: Record<string, string>, location: string, config: Record<string, string> = {}, credentials: StorageCredential[] = []) {
  const scoped = credentials.filter((c) => location.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return { ...catalogProperties, ...config, ...scoped?.config };
}

export function loadedStorageConfig(catalogProperties: Record<string, string>, loaded: LoadTableResult): Record<string, string> {
  return tableStorageConfig(catalogProperties, loaded.metadata.location, loaded.config, loaded['storage-credentials']);
}

/** What the catalog's answer for a table asks of its clients. */
export function storageAccessMode(config: Record<string, string>): StorageAccessMode {
  if (config['s3.access-key-id'] && config['s3.secret-access-key']) return 'vended';
  if (config['s3.remote-signing-enabled'] === 'true') return 'signed';
  return 'static';
}

/**
 * When vended credentials expire (ms since the epoch): `s3.session-token-expires-at-ms` (Nessie,
 * Lakekeeper, Polaris) or `expiration-time` (storage-credentials); undefined when not said.
 */
export function credentialsExpiry(config: Record<string, string>): number | undefined {
  for (const key of ['s3.session-token-expires-at-ms', 'expiration-time']) {
    const raw = config[key]?.trim();
    if (!raw) continue;
    if (/^\d+$/.test(raw)) {
      const n = Number(raw);
      return n < 1e11 ? n * 1000 : n; // seconds, or milliseconds
    }
    const parsed = Date.parse(raw);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return undefined;
}

function identity(config: Record<string, string>): AwsCredentialIdentity {
  return { accessKeyId: config['s3.access-key-id']!, secretAccessKey: config['s3.secret-access-key']!, sessionToken: config['s3.session-token'] || undefined };
}

/**
 * A table's vended storage credentials, renewed lazily: the S3 client asks before every request,
 * and once they are within `marginMs` of their expiry new ones are fetched (the REST spec's
 * loadCredentials endpoint where the catalog lists it, else a reload of the table). Concurrent
 * requests share one renewal. One per table: catalogs scope vended credentials to its location.
 */
export class VendedCredentials {
  private current: { identity: AwsCredentialIdentity; expiresAt?: number };
  private pending?: Promise<void>;
  /**
   * When the catalog answered credentials that are already within the margin (it may hand out a
   * cached session until its own grace period), not asked again before this: not on every request.
   */
  private notBefore = 0;
  /** Renewals so far (ahead of expiry or after a refusal). */
  renewals = 0;

  constructor(
    private readonly catalog: RestCatalog,
    private readonly table: { namespace: Namespace; name: string; location: string },
    config: Record<string, string>,
    private readonly marginMs: number,
  ) {
    this.current = { identity: identity(config), expiresAt: credentialsExpiry(config) };
  }

  /** The credentials of a newer answer for this table (a reload the table made anyway). */
  update(config: Record<string, string>): void {
    if (storageAccessMode(config) !== 'vended') return;
    this.current = { identity: identity(config), expiresAt: credentialsExpiry(config) };
  }

  private stale(): boolean {
    const { expiresAt } = this.current;
    const now = Date.now();
    // Past their expiry they are renewed whatever the back-off says.
    return expiresAt !== undefined && now >= expiresAt - this.marginMs && (now >= this.notBefore || now >= expiresAt - 1000);
  }

  /** An AWS SDK credential provider. */
  readonly provider = async (): Promise<AwsCredentialIdentity> => {
    if (this.stale()) await this.renew();
    return this.current.identity;
  };

  /** Fetches new credentials now (one fetch for all callers waiting at once). */
  readonly renew = (): Promise<void> => {
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  };

  private async fetch(): Promise<void> {
    const { namespace, name, location } = this.table;
    let config: Record<string, string>;
    if (await this.catalog.servesLoadCredentials()) {
      config = tableStorageConfig(this.catalog.properties, location, {}, await this.catalog.loadCredentials(namespace, name));
    } else {
      config = loadedStorageConfig(this.catalog.properties, await this.catalog.loadTable(namespace, name));
    }
    if (storageAccessMode(config) !== 'vended') {
      throw new SyncError(`The catalog vended no storage credentials for ${[...namespace, name].join('.')} when asked for new ones (those it gave before expired)`, {
        code: ERROR_CODES.CATALOG_REFUSED,
        retryable: false,
      });
    }
    const expiresAt = credentialsExpiry(config);
    this.current = { identity: identity(config), expiresAt };
    this.renewals++;
    const now = Date.now();
    if (expiresAt !== undefined && now >= expiresAt - this.marginMs) this.notBefore = now + Math.min(30_000, Math.max(1000, (expiresAt - now) / 10));
  }
}
