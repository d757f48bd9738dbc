import { describe, expect, it } from 'vitest';
import type { RestCatalog } from '../../src/iceberg/catalog';
import { AlreadyExistsError, CatalogUnavailableError, ForbiddenError, NotFoundError } from '../../src/iceberg/errors';
import { IcebergDestination } from '../../src/destinations/iceberg';

/**
 * Taking back what a failed first sync created ignores only the answers that mean "nothing to do";
 * any other failure fails the cleanup (which Temporal retries) instead of leaving things silently.
 * The catalog is a stub: the table is already gone, the namespace is what each case is about.
 */
function destination(catalog: { listTables: () => Promise<string[]>; dropNamespace: () => Promise<void> }) {
  const stub = { loadTable: async () => Promise.reject(new NotFoundError('load table ns.account: HTTP 404', 404)), ...catalog } as unknown as RestCatalog;
  return new IcebergDestination(stub, () => {
    throw new Error('no table to open');
  });
}

const ref = { namespace: ['ns'], table: 'account' };
const created = { table: true, namespace: true };

describe('discardUnused: what cleanup may ignore', () => {
  it('drops the empty namespace the run created', async () => {
    const dropped: string[] = [];
    await destination({ listTables: async () => [], dropNamespace: async () => void dropped.push('ns') }).discardUnused(ref, 'run', created);
    expect(dropped).toEqual(['ns']);
  });

  const ignored: [string, { listTables: () => Promise<string[]>; dropNamespace: () => Promise<void> }][] = [
    [
      'the namespace is gone already (404 on listing)',
      { listTables: () => Promise.reject(new NotFoundError('list tables of ns: HTTP 404', 404)), dropNamespace: () => Promise.reject(new Error('not called')) },
    ],
    ['the namespace is gone already (404 on drop)', { listTables: async () => [], dropNamespace: () => Promise.reject(new NotFoundError('drop namespace ns: HTTP 404', 404)) }],
    [
      'another sync filled it meanwhile (409 on drop)',
      { listTables: async () => [], dropNamespace: () => Promise.reject(new AlreadyExistsError('drop namespace ns: HTTP 409 NamespaceNotEmptyException', 409)) },
    ],
  ];
  for (const [what, catalog] of ignored) {
    it(`nothing to do when ${what}`, async () => {
      await expect(destination(catalog).discardUnused(ref, 'run', created)).resolves.toBe(false);
    });
  }

  const unavailable = new CatalogUnavailableError('list tables of ns: HTTP 503', 503);
  const forbidden = new ForbiddenError('drop namespace ns: HTTP 403', 403);
  const failing: [string, Error, { listTables: () => Promise<string[]>; dropNamespace: () => Promise<void> }][] = [
    ['the catalog does not answer the listing', unavailable, { listTables: () => Promise.reject(unavailable), dropNamespace: async () => undefined }],
    ['the catalog refuses the drop (403)', forbidden, { listTables: async () => [], dropNamespace: () => Promise.reject(forbidden) }],
  ];
  for (const [what, error, catalog] of failing) {
    it(`fails the cleanup when ${what}`, async () => {
      await expect(destination(catalog).discardUnused(ref, 'run', created)).rejects.toBe(error);
    });
  }
});
