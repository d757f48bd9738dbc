import { describe, expect, it } from 'vitest';
import { IcebergTable } from '../../src/iceberg/table';
import type { LoadTableResult } from '../../src/iceberg/catalog';
import type { Schema, TableMetadata } from '../../src/iceberg/spec';
import { rereadReason } from '../../src/sync/reread';

describe('when an incremental sync re-reads every row', () => {
  const cursor = '2026-01-01T00:00:00.000Z';

  it('a merge table that gained columns: yes, unless told not to', () => {
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: ['tier_c'] })).toBe('new-fields');
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: true })).toBe('new-fields');
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: false })).toBeUndefined();
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: [] })).toBeUndefined();
    expect(rereadReason({ mode: 'merge', after: cursor })).toBeUndefined();
  });

  it('refreshFormulas asks for it', () => {
    expect(rereadReason({ mode: 'merge', after: cursor, refreshFormulas: true })).toBe('formulas');
    expect(rereadReason({ mode: 'merge', after: cursor, refreshFormulas: false })).toBeUndefined();
    // Both at once: one read fills both; new fields named as the reason.
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: ['tier_c'], refreshFormulas: true })).toBe('new-fields');
    expect(rereadReason({ mode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: false, refreshFormulas: true })).toBe('formulas');
  });

  it('never for replace (it reads everything anyway), append (it would add every row again) or a sync with no stored cursor (a full read already)', () => {
    for (const mode of ['replace', 'append'] as const) {
      expect(rereadReason({ mode, after: cursor, newColumns: ['tier_c'], refreshFormulas: true })).toBeUndefined();
    }
    expect(rereadReason({ mode: 'merge', newColumns: ['tier_c'], refreshFormulas: true })).toBeUndefined();
  });
});

describe('columns the rows of a table were written without', () => {
  const schema = (id: number, names: string[]): Schema => ({ type: 'struct', 'schema-id': id, fields: names.map((name, k) => ({ id: k + 1, name, required: k === 0, type: 'string' })) });
  const table = (schemas: Schema[], current: number, snapshotSchema?: number) => {
    const metadata = {
      'format-version': 2, 'table-uuid': 'u', location: 's3://w/t', 'last-column-id': 3, schemas, 'current-schema-id': current,
      'current-snapshot-id': 7n, snapshots: [{ 'snapshot-id': 7n, 'sequence-number': 1n, 'timestamp-ms': 0, 'manifest-list': 'l', summary: { operation: 'append' }, ...(snapshotSchema === undefined ? {} : { 'schema-id': snapshotSchema }) }],
    } as unknown as TableMetadata;
    return new IcebergTable(undefined as never, ['ns'], 't', { metadata } as LoadTableResult, undefined as never);
  };

  it('are the columns added after the schema the current snapshot was written with (a failed sync that added them leaves them to the next)', () => {
    const before = schema(0, ['id', 'name']);
    const after = schema(1, ['id', 'name', 'tier_c']);
    expect(table([before, after], 1, 0).columnsNewerThanData()).toEqual(['tier_c']);
    expect(table([before, after], 1, 1).columnsNewerThanData()).toEqual([]);
    // A doc-only schema change keeps the field ids: nothing is new.
    const documented = { ...after, 'schema-id': 2, fields: after.fields.map((f) => ({ ...f, doc: f.name })) };
    expect(table([before, after, documented], 2, 1).columnsNewerThanData()).toEqual([]);
    // A snapshot that does not say its schema: unknown.
    expect(table([before, after], 1).columnsNewerThanData()).toBeUndefined();
  });
});
