import { describe, expect, it } from 'vitest';
import { readers } from '../helpers/readers';
import { stackSettings, uniqueName } from '../helpers/stack';

/**
 * Nessie's Iceberg REST API spoken directly (the project's own catalog client comes with the sink),
 * then opened by the two independent readers the tests rely on.
 */
describe('Nessie as an Iceberg REST catalog', () => {
  const settings = stackSettings();
  const base = settings.ICEBERG_CATALOG_URI.replace(/\/$/, '');

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function prefix(): Promise<string> {
    const response = await call('GET', `/v1/config?warehouse=${encodeURIComponent(settings.ICEBERG_WAREHOUSE)}`);
    expect(response.status).toBe(200);
    const config = (await response.json()) as { defaults?: Record<string, string>; overrides?: Record<string, string> };
    const value = config.overrides?.prefix ?? config.defaults?.prefix;
    expect(value).toBeTruthy();
    return value!;
  }

  it('creates, lists, describes and drops a namespace', async () => {
    const p = await prefix();
    const namespace = uniqueName('ns');
    const created = await call('POST', `/v1/${p}/namespaces`, { namespace: [namespace], properties: { owner: 'tests' } });
    expect(created.status).toBe(200);

    const again = await call('POST', `/v1/${p}/namespaces`, { namespace: [namespace] });
    expect(again.status).toBe(409);
    const error = (await again.json()) as { error: { type: string; code: number } };
    expect(error.error.code).toBe(409);

    const list = (await (await call('GET', `/v1/${p}/namespaces`)).json()) as { namespaces: string[][] };
    expect(list.namespaces).toContainEqual([namespace]);

    const loaded = (await (await call('GET', `/v1/${p}/namespaces/${namespace}`)).json()) as { properties: Record<string, string> };
    expect(loaded.properties.owner).toBe('tests');

    expect((await call('DELETE', `/v1/${p}/namespaces/${namespace}`)).status).toBe(204);
    expect((await call('GET', `/v1/${p}/namespaces/${namespace}`)).status).toBe(404);
  });

  it('is opened by pyiceberg and DuckDB, which read the same table', async () => {
    const p = await prefix();
    const namespace = uniqueName('readers');
    expect((await call('POST', `/v1/${p}/namespaces`, { namespace: [namespace] })).status).toBe(200);
    try {
      const listed = await readers<{ pyiceberg: string[]; duckdb: string[] }>('namespaces');
      expect(listed.pyiceberg).toContain(namespace);
      expect(listed.duckdb).toContain(namespace);

      // pyiceberg writes through the catalog to MinIO; both readers then read it back.
      await readers('write-sample', namespace, 'sample');
      const viaPyiceberg = await readers<{ rows: Record<string, unknown>[]; columns: { name: string; type: string }[] }>('read', '--reader', 'pyiceberg', namespace, 'sample');
      const viaDuckdb = await readers<{ rows: Record<string, unknown>[]; columns: { name: string; type: string }[] }>('read', '--reader', 'duckdb', namespace, 'sample');
      const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
      expect(byId(viaPyiceberg.rows)).toEqual([
        { id: '001A', amount: '12.50', modified: '2026-01-02T03:04:05.123000Z' },
        { id: '001B', amount: null, modified: '2026-02-03T04:05:06.000000Z' },
        { id: '001C', amount: '-3.25', modified: null },
      ]);
      expect(byId(viaDuckdb.rows)).toEqual(byId(viaPyiceberg.rows));
      expect(viaPyiceberg.columns.map((c) => c.type)).toEqual(['string', 'decimal(18, 2)', 'timestamptz']);
      expect(viaDuckdb.columns.map((c) => c.type)).toEqual(['VARCHAR', 'DECIMAL(18,2)', 'TIMESTAMP WITH TIME ZONE']);
    } finally {
      await readers('drop', namespace);
    }
  });
});
