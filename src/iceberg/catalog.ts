import {
  AlreadyExistsError,
  BadRequestError,
  CatalogError,
  CatalogUnavailableError,
  CommitConflictError,
  CommitStateUnknownError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
} from './errors';
import { connectionFailure } from '../net';
import { parseJson, toJson } from './json';
import type { PartitionSpec, Schema, Snapshot, SortOrder, TableMetadata } from './spec';

/** How the client authenticates to the catalog. */
export type CatalogAuth = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'oauth2'; clientId: string; clientSecret: string; serverUri?: string; scope?: string };

export interface CatalogOptions {
  uri: string;
  warehouse?: string;
  auth?: CatalogAuth;
  /** What to ask the catalog for (X-Iceberg-Access-Delegation): vended storage credentials and/or remote signing. */
  accessDelegation?: 'vended-credentials,remote-signing' | 'vended-credentials' | 'remote-signing' | 'none';
  /**
   * How long before an OAuth2 access token expires it is replaced (default 60 s; at most half its
   * lifetime, so a short-lived token is not refreshed on every call).
   */
  refreshMarginMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type Namespace = string[];

/** The table a LoadTableResult was loaded or created for (set by RestCatalog, not part of the answer's JSON). */
export const TABLE_IDENTIFIER = Symbol('table identifier');

/** A table's storage credentials as the catalog vends them (LoadTableResult `storage-credentials`, or loadCredentials). */
export interface StorageCredential {
  prefix: string;
  config: Record<string, string>;
}

export interface LoadTableResult {
  'metadata-location'?: string;
  metadata: TableMetadata;
  config?: Record<string, string>;
  'storage-credentials'?: StorageCredential[];
  [TABLE_IDENTIFIER]?: { namespace: Namespace; name: string };
}

/** The REST spec's loadCredentials route, as catalogs list it in /v1/config `endpoints`. */
const LOAD_CREDENTIALS_ENDPOINT = 'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials';

export type TableRequirement =
  | { type: 'assert-create' }
  | { type: 'assert-table-uuid'; uuid: string }
  | { type: 'assert-ref-snapshot-id'; ref: string; 'snapshot-id': bigint | null }
  | { type: 'assert-current-schema-id'; 'current-schema-id': number }
  | { type: 'assert-last-assigned-field-id'; 'last-assigned-field-id': number }
  | { type: 'assert-default-spec-id'; 'default-spec-id': number }
  | { type: 'assert-last-assigned-partition-id'; 'last-assigned-partition-id': number }
  | { type: 'assert-default-sort-order-id'; 'default-sort-order-id': number };

export type TableUpdate =
  | { action: 'add-snapshot'; snapshot: Snapshot }
  | { action: 'set-snapshot-ref'; 'ref-name': string; type: 'branch' | 'tag'; 'snapshot-id': bigint }
  | { action: 'add-schema'; schema: Schema; 'last-column-id'?: number }
  | { action: 'set-current-schema'; 'schema-id': number }
  | { action: 'set-properties'; updates: Record<string, string> }
  | { action: 'remove-snapshots'; 'snapshot-ids': bigint[] }
  | { action: 'remove-snapshot-ref'; 'ref-name': string }
  /** A partition spec; `set-default-spec` with spec-id -1 then means the one last added. */
  | { action: 'add-spec'; spec: PartitionSpec }
  | { action: 'set-default-spec'; 'spec-id': number }
  /** A sort order; `set-default-sort-order` with sort-order-id -1 then means the one last added. */
  | { action: 'add-sort-order'; 'sort-order': SortOrder }
  | { action: 'set-default-sort-order'; 'sort-order-id': number };

export interface CreateTableRequest {
  name: string;
  schema: Schema;
  location?: string;
  'partition-spec'?: Omit<PartitionSpec, 'spec-id'> & { 'spec-id'?: number };
  'write-order'?: SortOrder;
  properties?: Record<string, string>;
  /** Staged: nothing is committed; the answer says where the table would be and how to reach its storage. */
  'stage-create'?: boolean;
}

interface ErrorBody {
  error?: { message?: string; type?: string; code?: number };
}

function identified(loaded: LoadTableResult, namespace: Namespace, name: string): LoadTableResult {
  Object.defineProperty(loaded, TABLE_IDENTIFIER, { value: { namespace, name }, enumerable: false });
  return loaded;
}

/** A client for the Iceberg REST catalog API (only the spec, so any REST catalog works). */
export class RestCatalog {
  private prefix = '';
  private readonly baseUri: string;
  private configured?: Promise<void>;
  private token?: { value: string; expiresAt: number };
  /** Catalog-wide properties from GET /v1/config (defaults, then overrides). */
  properties: Record<string, string> = {};
  /** The routes the catalog says it serves (GET /v1/config `endpoints`, e.g. "POST /v1/{prefix}/transactions/commit"); undefined when it does not say. */
  endpoints?: string[];
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: CatalogOptions) {
    this.baseUri = options.uri.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** GET /v1/config: the prefix for every other path, and property overrides. */
  async init(): Promise<void> {
    this.configured ??= (async () => {
      const query = this.options.warehouse ? `?warehouse=${encodeURIComponent(this.options.warehouse)}` : '';
      const config = await this.request<{ defaults?: Record<string, string>; overrides?: Record<string, string>; endpoints?: string[] }>('GET', `/v1/config${query}`, {
        what: 'read the catalog configuration',
        unprefixed: true,
      });
      this.properties = { ...(config.defaults ?? {}), ...(config.overrides ?? {}) };
      this.endpoints = Array.isArray(config.endpoints) ? config.endpoints : undefined;
      // An advertised `uri` override is ignored: the catalog names its own address, which a client
      // behind a gateway or proxy must not switch to (the URI the user configured wins).
      this.prefix = this.properties.prefix ? `/${this.properties.prefix}` : '';
    })().catch((error) => {
      this.configured = undefined;
      throw error;
    });
    return this.configured;
  }

  static namespacePath(namespace: Namespace): string {
    // Multi-level namespaces are joined with the unit separator (0x1F), as the spec says.
    return encodeURIComponent(namespace.join('\u001f'));
  }

  private tablePath(namespace: Namespace, table: string): string {
    return `/v1/namespaces/${RestCatalog.namespacePath(namespace)}/tables/${encodeURIComponent(table)}`;
  }

  async namespaceExists(namespace: Namespace): Promise<boolean> {
    try {
      await this.request('GET', `/v1/namespaces/${RestCatalog.namespacePath(namespace)}`, { what: `read namespace ${namespace.join('.')}` });
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async listNamespaces(): Promise<Namespace[]> {
    return this.paged('/v1/namespaces', 'list namespaces', (page: { namespaces: Namespace[] }) => page.namespaces);
  }

  /** Follows `next-page-token` until the catalog has no more pages. */
  private async paged<P, T>(path: string, what: string, items: (page: P) => T[]): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.request<P & { 'next-page-token'?: string | null }>('GET', `${path}${token ? `?pageToken=${encodeURIComponent(token)}` : ''}`, { what });
      out.push(...items(page));
      token = page['next-page-token'] ?? undefined;
    } while (token);
    return out;
  }

  /** Creates the namespace unless it exists (a concurrent creator is fine); true if this call created it. */
  async ensureNamespace(namespace: Namespace, properties: Record<string, string> = {}): Promise<boolean> {
    if (await this.namespaceExists(namespace)) return false;
    try {
      await this.request('POST', '/v1/namespaces', { what: `create namespace ${namespace.join('.')}`, body: { namespace, properties } });
      return true;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      return false;
    }
  }

  async dropNamespace(namespace: Namespace): Promise<void> {
    await this.request('DELETE', `/v1/namespaces/${RestCatalog.namespacePath(namespace)}`, { what: `drop namespace ${namespace.join('.')}` });
  }

  async listTables(namespace: Namespace): Promise<string[]> {
    return this.paged(`/v1/namespaces/${RestCatalog.namespacePath(namespace)}/tables`, `list tables of ${namespace.join('.')}`, (page: { identifiers: { name: string }[] }) =>
      page.identifiers.map((i) => i.name),
    );
  }

  async loadTable(namespace: Namespace, table: string): Promise<LoadTableResult> {
    const loaded = await this.request<LoadTableResult>('GET', this.tablePath(namespace, table), { what: `load table ${[...namespace, table].join('.')}` });
    return identified(loaded, namespace, table);
  }

  /** Whether the catalog serves the spec's loadCredentials route (it lists it in /v1/config `endpoints`). */
  async servesLoadCredentials(): Promise<boolean> {
    await this.init();
    return this.endpoints?.includes(LOAD_CREDENTIALS_ENDPOINT) ?? false;
  }

  /** GET .../tables/{t}/credentials: fresh vended storage credentials for a table (the REST spec's loadCredentials). */
  async loadCredentials(namespace: Namespace, table: string): Promise<StorageCredential[]> {
    const answer = await this.request<{ 'storage-credentials'?: StorageCredential[] }>('GET', `${this.tablePath(namespace, table)}/credentials`, {
      what: `load storage credentials of ${[...namespace, table].join('.')}`,
    });
    return answer['storage-credentials'] ?? [];
  }

  async tableExists(namespace: Namespace, table: string): Promise<boolean> {
    try {
      await this.loadTable(namespace, table);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async createTable(namespace: Namespace, request: CreateTableRequest): Promise<LoadTableResult> {
    const created = await this.request<LoadTableResult>('POST', `/v1/namespaces/${RestCatalog.namespacePath(namespace)}/tables`, {
      what: `create table ${[...namespace, request.name].join('.')}`,
      // Some catalogs (Nessie) require stage-create although the spec makes it optional.
      body: { 'stage-create': false, ...request },
    });
    return identified(created, namespace, request.name);
  }

  async dropTable(namespace: Namespace, table: string, purge = true): Promise<void> {
    await this.request('DELETE', `${this.tablePath(namespace, table)}${purge ? '?purgeRequested=true' : ''}`, {
      what: `drop table ${[...namespace, table].join('.')}`,
    });
  }

  /**
   * POST a commit. 409 → CommitConflictError (retry on the new state); 5xx, timeout or a broken
   * connection → CommitStateUnknownError (reload and check before retrying).
   */
  async commitTable(
    namespace: Namespace,
    table: string,
    requirements: TableRequirement[],
    updates: TableUpdate[],
  ): Promise<{ 'metadata-location': string; metadata: TableMetadata }> {
    return this.request('POST', this.tablePath(namespace, table), {
      what: `commit to ${[...namespace, table].join('.')}`,
      body: { identifier: { namespace, name: table }, requirements, updates },
      commit: true,
    });
  }

  /**
   * POST /v1/{prefix}/transactions/commit: every table's requirements and updates in one request,
   * which the catalog applies all or none (where it is atomic: see src/iceberg/transaction.ts).
   * Errors as commitTable's.
   */
  async commitTransaction(changes: { identifier: { namespace: Namespace; name: string }; requirements: TableRequirement[]; updates: TableUpdate[] }[]): Promise<void> {
    await this.request('POST', '/v1/transactions/commit', {
      what: `commit to ${changes.map((c) => [...c.identifier.namespace, c.identifier.name].join('.')).join(', ')} in one transaction`,
      body: { 'table-changes': changes },
      commit: true,
    });
  }

  /** The catalog's address as configured (and its warehouse), for messages. */
  get address(): string {
    return `${this.baseUri}${this.options.warehouse ? ` (warehouse ${this.options.warehouse})` : ''}`;
  }

  /**
   * The Authorization header value of catalog calls (undefined without auth), for other requests
   * to the catalog's services such as its S3 request signer. `forceRefresh` gets a new OAuth2 token.
   */
  authorizationHeader(forceRefresh = false): Promise<string | undefined> {
    return this.authorization(forceRefresh);
  }

  private async authorization(forceRefresh = false): Promise<string | undefined> {
    const auth = this.options.auth ?? { kind: 'none' };
    if (auth.kind === 'none') return undefined;
    if (auth.kind === 'token') return `Bearer ${auth.token}`;
    if (!forceRefresh && this.token && Date.now() < this.token.expiresAt) return `Bearer ${this.token.value}`;
    const serverUri = auth.serverUri ?? `${this.options.uri.replace(/\/+$/, '')}/v1/oauth/tokens`;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret });
    if (auth.scope) form.set('scope', auth.scope);
    let response: Response;
    try {
      response = await this.fetchImpl(serverUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw Object.assign(new CatalogUnavailableError(`Could not reach the OAuth2 token endpoint ${serverUri}: ${connectionFailure(error, new URL(serverUri).host)}`), {
        cause: error,
      });
    }
    if (response.status === 404 || response.status === 405 || response.status === 501) {
      // Not a refusal: nothing there issues tokens (many catalogs leave OAuth2 to an identity
      // provider). Asking again will not make one appear: not retried.
      throw new BadRequestError(
        `There is no OAuth2 token endpoint at ${serverUri} (HTTP ${response.status}). Set ICEBERG_OAUTH2_SERVER_URI to your identity provider's token endpoint, ` +
          'or use ICEBERG_TOKEN, or unset ICEBERG_CLIENT_ID / ICEBERG_CLIENT_SECRET if the catalog needs no authentication.',
        response.status,
      );
    }
    if (!response.ok) {
      // The body may echo the request; never include it (it could hold the secret).
      const kind = response.status === 401 || response.status === 400 ? UnauthorizedError : CatalogUnavailableError;
      throw new kind(
        `The OAuth2 token endpoint ${serverUri} refused the client credentials of client id "${auth.clientId}" (HTTP ${response.status}). Check ICEBERG_CLIENT_ID / ICEBERG_CLIENT_SECRET.`,
        response.status,
      );
    }
    const body = (await response.json()) as { access_token: string; expires_in?: number };
    // Replaced before it expires: `refreshMarginMs` ahead, at most half its lifetime ahead.
    const lifetimeMs = (body.expires_in ?? 3600) * 1000;
    this.token = { value: body.access_token, expiresAt: Date.now() + lifetimeMs - Math.min(this.options.refreshMarginMs ?? 60_000, lifetimeMs / 2) };
    return `Bearer ${body.access_token}`;
  }

  private async request<T = unknown>(method: string, path: string, opts: { what: string; body?: unknown; commit?: boolean; unprefixed?: boolean }): Promise<T> {
    if (!opts.unprefixed) await this.init();
    const url = `${this.baseUri}${opts.unprefixed ? path : path.replace(/^\/v1/, `/v1${this.prefix}`)}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      const authorization = await this.authorization(attempt > 0);
      if (authorization) headers.authorization = authorization;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const delegation = this.options.accessDelegation ?? 'vended-credentials,remote-signing';
      if (delegation !== 'none') headers['x-iceberg-access-delegation'] = delegation;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: opts.body === undefined ? undefined : toJson(opts.body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : connectionFailure(error, new URL(url).host);
        // The cause keeps the network code: a host name that does not resolve is not retried.
        if (opts.commit) throw Object.assign(new CommitStateUnknownError(`Could not ${opts.what}: ${reason}. The commit may or may not have landed.`), { cause: error });
        throw Object.assign(new CatalogUnavailableError(`Could not ${opts.what}: the catalog at ${this.baseUri} is unreachable: ${reason}.`), { cause: error });
      }
      // An expired OAuth2 token: fetch a new one once and retry.
      if (response.status === 401 && attempt === 0 && this.options.auth?.kind === 'oauth2') continue;
      const text = await response.text();
      if (response.ok) return (text ? parseJson<T>(text) : undefined) as T;
      throw this.toError(response.status, text, opts);
    }
  }

  private toError(status: number, text: string, opts: { what: string; commit?: boolean }): CatalogError {
    let detail = '';
    let type: string | undefined;
    try {
      const body = parseJson<ErrorBody>(text);
      detail = body.error?.message ?? '';
      type = body.error?.type;
    } catch {
      detail = text.slice(0, 300);
    }
    const message = `Could not ${opts.what}: HTTP ${status}${type ? ` ${type}` : ''}${detail ? `: ${detail}` : ''}`;
    if (status === 404) return new NotFoundError(message, status, type);
    if (status === 409) return opts.commit ? new CommitConflictError(message, status, type) : new AlreadyExistsError(message, status, type);
    if (status === 401) return new UnauthorizedError(`${message}. Check ICEBERG_TOKEN or ICEBERG_CLIENT_ID / ICEBERG_CLIENT_SECRET.`, status, type);
    if (status === 403) return new ForbiddenError(`${message}. The catalog credentials lack permission for this.`, status, type);
    if (status === 400 || status === 406 || status === 422) return new BadRequestError(message, status, type);
    if (status >= 500 && opts.commit) return new CommitStateUnknownError(`${message}. The commit may or may not have landed.`, status, type);
    return new CatalogUnavailableError(message, status, type);
  }
}
