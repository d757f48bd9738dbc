import { describe, expect, it } from 'vitest';
import { duckdbType } from '../../src/destinations/duckdb';
import { duckdbMode } from '../../src/destinations/duckdb-settings';

describe('DuckDB fallback', () => {
  it('maps every Iceberg column type the schema mapping produces', () => {
    expect((['string', 'boolean', 'int', 'long', 'double', 'date', 'time', 'timestamptz', 'binary', 'decimal(18, 2)'] as const).map((t) => duckdbType(t))).toEqual([
      'VARCHAR',
      'BOOLEAN',
      'INTEGER',
      'BIGINT',
      'DOUBLE',
      'DATE',
      'TIME',
      'TIMESTAMPTZ',
      'BLOB',
      'DECIMAL(18, 2)',
    ]);
  });

  it("is on for DUMP_TO_DUCKDB=true (the original pipeline's switch), off otherwise", () => {
    expect([duckdbMode({ DUMP_TO_DUCKDB: 'true' }), duckdbMode({ DUMP_TO_DUCKDB: 'TRUE' }), duckdbMode({ DUMP_TO_DUCKDB: 'false' }), duckdbMode({})]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
