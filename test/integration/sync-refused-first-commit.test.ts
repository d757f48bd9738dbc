import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIceberg } from '../../src/iceberg/connect';
import { loadTable } from '../../src/iceberg/table';
import { parseIcebergSettings, s3Settings } from '../../src/iceberg/settings';
import { S3ObjectStore } from '../../src/storage/s3';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { startCatalogProxy, type ProxiedRequest } from '../helpers/catalog-proxy';
import { catalogTargets } from '../helpers/catalogs';
import { syncHarness } from '../helpers/sync-harness';

/*
 * A first sync whose commit the catalog refuses for good (403, 400) leaves nothing in storage. A
 * proxy in front of each catalog of the stack (Nessie, which purges nothing on drop, and the
 * reference catalog, which purges what its metadata references) refuses either the sync's data
 * commit or the table's first, empty commit; before refusing it notes the table's location. After
 * the failed sync the table is gone and nothing at all is left under that location: not the
 * catalog's metadata files, not the refused attempt's manifest list, not a data file.
 */
const sim = new SalesforceSimulator({ rowCounts: { Account: 300, Contact: 200 } });
const targets = catalogTargets();

type Refusal = { which: 'data commit' | 'first commit'; status: number; location?: string; refused: number };
const refusals = new Map<string, Refusal>();
const workers: Record<string, Record<string, string>> = {};
const proxies: Awaited<ReturnType<typeof startCatalogProxy>>[] = [];

/** The commit the refusal is about: the sync's data commit, or the table's first (empty) snapshot. */
const matches = (req: ProxiedRequest, which: Refusal['which']) =>
  req.method === 'POST' && (which === 'data commit' ? req.isDataCommit : req.body.includes('salesforce.initial-snapshot') && !req.isDataCommit);

beforeAll(async () => {
  for (const target of targets) {
    const { catalog, storeFor } = connectIceberg(target.settings);
    const proxy = await startCatalogProxy(target.settings.ICEBERG_CATALOG_URI, {
      before: async (req) => {
        const r = refusals.get(target.name);
        if (!r || !matches(req, r.which)) return undefined;
        // The commit's table, as the catalog has it now: its location is what must end up empty.
        const m = /\/namespaces\/([^/]+)\/tables\/([^/?]+)/.exec(req.url)!;
        const t = await loadTable({ catalog, namespace: decodeURIComponent(m[1]!).split('\x1f'), name: decodeURIComponent(m[2]!), storeFor });
        r.location = t.location;
        r.refused++;
        const type = r.status === 403 ? 'ForbiddenException' : 'BadRequestException';
        return { status: r.status, body: { error: { message: `refused by the test (${r.which})`, type, code: r.status } } };
      },
    });
    proxies.push(proxy);
    workers[target.name] = { ICEBERG_CATALOG_URI: proxy.uri };
  }
});
const harness = syncHarness({ name: 'refused', sim, workers });
afterAll(async () => {
  for (const p of proxies) await p.close();
});

/** Every object under a location, listed with the stack's own keys. */
async function objectsUnder(target: (typeof targets)[number], location: string): Promise<string[]> {
  const store = new S3ObjectStore(s3Settings(parseIcebergSettings(target.settings)));
  const found: string[] = [];
  for await (const o of store.list(`${location.replace(/\/+$/, '')}/`)) found.push(o.uri);
  return found;
}

describe('a first sync whose commit the catalog refuses leaves nothing in storage', () => {
  for (const target of targets) {
    for (const [which, status, object] of [
      ['data commit', 403, 'Account'],
      ['first commit', 400, 'Contact'],
    ] as const) {
      it(`${target.name}: the ${which} refused (${status}): the table is dropped and its location is empty`, async () => {
        const namespace = harness.namespace(target.settings.ICEBERG_CATALOG_URI);
        const refusal: Refusal = { which, status, refused: 0 };
        refusals.set(target.name, refusal);
        try {
          const outcomes = await harness
            .sync({ objects: [object], namespace }, { queue: target.name })
            .catch((e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0] as never);
          expect(outcomes).toEqual([expect.objectContaining({ object, status: 'failed' })]);
        } finally {
          refusals.delete(target.name);
        }
        expect(refusal.refused).toBeGreaterThan(0);
        expect(refusal.location).toMatch(/^s3:\/\//);
        const { catalog } = connectIceberg(target.settings);
        expect(await catalog.tableExists([namespace], object.toLowerCase())).toBe(false);
        const left = await objectsUnder(target, refusal.location!);
        console.log(`${target.name}, ${which} refused (${status}): ${left.length} objects left under ${refusal.location}`);
        expect(left).toEqual([]);
      });
    }
  }
});
