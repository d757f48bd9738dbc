import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnName } from '../../src/mapping/schema-mapping';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { startCatalogProxy, type ProxiedRequest } from '../helpers/catalog-proxy';
import { catalogTargets } from '../helpers/catalogs';
import { readersAt, type ReadResult } from '../helpers/readers';
import { startS3Proxy, type S3Request } from '../helpers/s3-proxy';
import { readerForm } from '../helpers/source-rows';
import { syncHarness } from '../helpers/sync-harness';

// Storage credentials the catalog vends (Nessie's ASSUME_ROLE: MinIO STS sessions of 15 minutes,
// STS's shortest; MinIO checks their expiry, so a session cannot be made to lapse sooner) and OAuth2 tokens to the catalog, expiring in the middle of a sync. The worker
// holds no S3 key. It reaches the catalog through an OAuth2 gateway (tokens granted there, checked
// on every call) and MinIO through a pass-through; both are driven by events of the sync itself:
// the extraction's data file, the first manifest list written after it, the data commit. Nothing
// waits for time to pass.
const vended = catalogTargets({ credentialModes: true }).find((t) => t.name === 'nessie-vended')!;
const ROWS = 1_000;
// Ten pages of 100 rows, each held 400 ms by the simulator, one at a time: the sync lasts seconds.
const sim = new SalesforceSimulator({ rowCounts: { Account: ROWS }, resultPageRecords: 100, bulkChunkRows: 1_000, resultLatencyMs: 400 });

const isDataFile = (url: string) => /\/data\/[^/]+\.parquet(\?|$)/.test(url) && !url.includes('/data/deletes-') && !/-deletes-/.test(url);
const isManifestList = (url: string) => /\/metadata\/[^/]*snap-[^/]+\.avro(\?|$)/.test(url);
const isCredentialsCall = (req: { method: string; url: string }) => req.method === 'GET' && /\/tables\/account(\/credentials)?(\?|$)/.test(req.url);

/** What each worker's proxies saw as requests arrived, S3 and catalog in one order. */
interface Seen {
  s3: (S3Request & { refused?: string })[];
  catalog: { method: string; url: string; status?: number }[];
  /** Both kinds of request in the order they arrived. */
  order: (({ kind: 's3' } & S3Request & { refused?: string }) | { kind: 'catalog'; method: string; url: string })[];
}

const proxies: { close: () => Promise<void> }[] = [];
const workers: Record<string, Record<string, string>> = {};
const seen: Record<'ahead' | 'refused', Seen> = { ahead: { s3: [], catalog: [], order: [] }, refused: { s3: [], catalog: [], order: [] } };
const sawS3 = (which: 'ahead' | 'refused', req: S3Request & { refused?: string }) => {
  seen[which].s3.push(req);
  seen[which].order.push({ kind: 's3', ...req });
};
const sawCatalog = (which: 'ahead' | 'refused', req: ProxiedRequest) => {
  seen[which].catalog.push({ method: req.method, url: req.url });
  seen[which].order.push({ kind: 'catalog', method: req.method, url: req.url });
};
let gateways: Record<'ahead' | 'refused', Awaited<ReturnType<typeof startCatalogProxy>>['oauth']>;

/** The `ahead` gateway's one answer whose keys it says expire within the margin (armed by the data file). */
const staleStamp: { armed: boolean; keyId?: string; at?: number } = { armed: false };

/** Faults of the `refused` worker: set by the S3 pass-through and the gateway as the sync reaches them. */
const faults = { dataFiles: 0, extractionRefused: false, commitRefused: false, commitTokenRevoked: false };

beforeAll(async () => {
  // `ahead`: the catalog's answers say when their credentials expire (Nessie 0.99 does not say;
  // catalogs that do, like Lakekeeper and Polaris, send s3.session-token-expires-at-ms beside the
  // keys): an hour ahead, except the first answer after the extraction wrote its data file, whose
  // keys are said to expire within the worker's renewal margin (60 s ahead; the margin is the
  // default 300 s). Those keys must be renewed before they are used. OAuth2 tokens last 2 s and
  // are renewed at half their life.
  const ahead = await startCatalogProxy(vended.settings.ICEBERG_CATALOG_URI, {
    oauth: { expiresInSeconds: 2 },
    before: async (req) => void sawCatalog('ahead', req),
    rewrite: (req, text) => {
      if (!isCredentialsCall(req) || !/"s3\.session-token"/.test(text)) return text;
      const stale = staleStamp.armed && !staleStamp.keyId;
      const expiresAt = Date.now() + (stale ? 60_000 : 3_600_000);
      if (stale) {
        staleStamp.keyId = /"s3\.access-key-id"\s*:\s*"([^"]+)"/.exec(text)?.[1];
        staleStamp.at = seen.ahead.order.length;
      }
      return text.replace(/"s3\.session-token-expires-at-ms"\s*:\s*"\d+"\s*,?/g, '').replace(/("s3\.session-token"\s*:)/g, `"s3.session-token-expires-at-ms":"${expiresAt}",$1`);
    },
  });
  const aheadS3 = await startS3Proxy(vended.settings.S3_ENDPOINT, {
    refuse: (req) => {
      if (isDataFile(req.url) && req.method === 'PUT') staleStamp.armed = true;
      sawS3('ahead', req);
      return undefined;
    },
  });

  // `refused`: credentials and tokens that stop working at events of the sync, though nothing said
  // they would: S3 answers ExpiredToken for the extraction's data file and for the first
  // manifest list after the data (mid-commit), and every OAuth2 token is revoked at the same
  // points and again when the data commit arrives.
  const refused = await startCatalogProxy(vended.settings.ICEBERG_CATALOG_URI, {
    oauth: { expiresInSeconds: 3600 },
    before: async (req) => {
      sawCatalog('refused', req);
      if (req.isDataCommit && faults.commitRefused && !faults.commitTokenRevoked) {
        faults.commitTokenRevoked = true;
        refused.oauth.revokeTokens();
      }
      return undefined;
    },
    after: (req, status) => {
      const last = seen.refused.catalog.findLast((c) => c.method === req.method && c.url === req.url && c.status === undefined);
      if (last) last.status = status;
    },
  });
  const refusedS3 = await startS3Proxy(vended.settings.S3_ENDPOINT, {
    refuse: (req) => {
      let refusal: string | undefined;
      if (isDataFile(req.url) && req.method === 'PUT' && !faults.extractionRefused && ++faults.dataFiles === 1) {
        faults.extractionRefused = true;
        refusal = 'extraction';
      } else if (isManifestList(req.url) && req.method === 'PUT' && faults.extractionRefused && !faults.commitRefused) {
        faults.commitRefused = true;
        refusal = 'commit';
      }
      sawS3('refused', { ...req, refused: refusal });
      if (!refusal) return undefined;
      refused.oauth.revokeTokens();
      return { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' };
    },
  });
  proxies.push(ahead, aheadS3, refused, refusedS3);
  gateways = { ahead: ahead.oauth, refused: refused.oauth };
  // One result page at a time: the extraction lasts at least ten times the simulator's 400 ms.
  const common = {
    ...vended.overrides,
    ICEBERG_CLIENT_ID: 'sync-worker',
    ICEBERG_CLIENT_SECRET: 'gateway-secret',
    SYNC_CHECKPOINT_SECONDS: '0',
    SALESFORCE_BULK_PAGES_IN_FLIGHT: '1',
  };
  workers.ahead = { ...common, ICEBERG_CATALOG_URI: ahead.uri, S3_ENDPOINT: aheadS3.endpoint };
  workers.refused = { ...common, ICEBERG_CATALOG_URI: refused.uri, S3_ENDPOINT: refusedS3.endpoint };
});
const harness = syncHarness({ name: 'expiry', sim, workers });
afterAll(async () => {
  for (const p of proxies) await p.close();
});

/** The source's Account rows in the readers' form, over the table's columns, by id. */
function sourceRows(columns: string[]): Record<string, unknown>[] {
  const o = sim.org.object('Account')!;
  const fields = columns.map((c) => o.fields.find((f) => columnName(f.name, 'snake_case') === c));
  return [...sim.org.records(o, false)]
    .map((r) => Object.fromEntries(columns.map((c, i) => [c, fields[i] ? readerForm(fields[i]!, r[fields[i]!.name]) : null])))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

/** The table read by pyiceberg and DuckDB with only what the catalog vends, equal to the source. */
async function expectTableEqualsSource(namespace: string) {
  for (const reader of ['pyiceberg', 'duckdb']) {
    const read = await readersAt<ReadResult>(vended.overrides, 'read', '--reader', reader, namespace, 'account');
    const rows = [...read.rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(rows.length, reader).toBe(ROWS);
    expect(rows, reader).toEqual(sourceRows(read.columns.map((c) => c.name)));
  }
}

describe('vended credentials and OAuth2 tokens that expire mid-sync', () => {
  it('vended credentials said to expire within the renewal margin are renewed before use; OAuth2 tokens before expires_in', async () => {
    const namespace = harness.namespace(vended.overrides);
    const [outcome] = await harness.sync({ objects: ['Account'], namespace }, { queue: 'ahead' });
    expect([outcome!.status, outcome!.error]).toEqual(['succeeded', undefined]);
    expect(outcome!.result).toMatchObject({ rows: ROWS });

    // The keys said to expire within the margin were handed out, then renewed before any use:
    // S3 saw requests after that answer, none signed with those keys.
    expect(staleStamp.keyId, 'an answer with keys near their expiry').toBeDefined();
    const order = seen.ahead.order;
    const s3After = order.slice(staleStamp.at).filter((r) => r.kind === 's3');
    expect(s3After.length).toBeGreaterThan(0);
    expect(s3After.filter((r) => r.kind === 's3' && r.accessKeyId === staleStamp.keyId)).toEqual([]);
    expect(seen.ahead.s3.filter((r) => r.accessKeyId === staleStamp.keyId)).toEqual([]);
    // Tokens of 2 s over a sync of seconds: new ones granted ahead of expiry, and none refused.
    expect(gateways.ahead.granted).toBeGreaterThanOrEqual(2);
    await expectTableEqualsSource(namespace);
  });

  it('vended credentials refused as expired mid-extraction and mid-commit, and OAuth2 tokens revoked there: renewed, the request sent again, the table equals the source', async () => {
    const namespace = harness.namespace(vended.overrides);
    const [outcome] = await harness.sync({ objects: ['Account'], namespace }, { queue: 'refused' });
    expect([outcome!.status, outcome!.error]).toEqual(['succeeded', undefined]);
    expect(outcome!.result).toMatchObject({ rows: ROWS });

    // Both refusals happened, at their points of the sync, and each refused object was then written.
    const refusals = seen.refused.s3.filter((r) => r.refused);
    expect(refusals.map((r) => r.refused)).toEqual(['extraction', 'commit']);
    for (const refusal of refusals) {
      const after = seen.refused.s3.slice(seen.refused.s3.indexOf(refusal) + 1);
      expect(
        after.some((r) => r.url === refusal.url && r.method === refusal.method && !r.refused),
        `${refusal.refused}: the refused request sent again`,
      ).toBe(true);
    }
    // Tokens: refused after each revocation (the credentials renewal, the data commit), a new one granted each time.
    expect(faults.commitTokenRevoked).toBe(true);
    expect(gateways.refused.refused.some((r) => r.method === 'POST' && /\/tables\/account$/.test(r.url))).toBe(true);
    expect(gateways.refused.granted).toBeGreaterThanOrEqual(3);
    // The data commit landed after its 401.
    expect(seen.refused.catalog.filter((c) => c.method === 'POST' && /\/tables\/account$/.test(c.url)).at(-1)?.status).toBe(200);
    await expectTableEqualsSource(namespace);
  });
});
