/** Settings of the DuckDB destination (src/destinations/duckdb.ts): local debugging without a catalog. */
import { z } from 'zod';
import { booleanSetting, settingsArea } from '../config/define';

export const duckdbArea = settingsArea('duckdb', {
  DUMP_TO_DUCKDB: {
    schema: booleanSetting,
    description: 'true: objects land in a local DuckDB file instead of Iceberg (local debugging; no catalog or S3 settings needed)',
    default: 'false',
  },
  DUCKDB_PATH: { schema: z.string(), description: 'the DuckDB file of DUMP_TO_DUCKDB (schema = namespace)', default: 'salesforce_sync.duckdb' },
});

export type DuckDbSettings = z.output<typeof duckdbArea.schema>;

/** DUMP_TO_DUCKDB=true: objects land in a local DuckDB file instead of Iceberg (read without the rest of the area). */
export function duckdbMode(env: Record<string, string | undefined>): boolean {
  return /^(true|1|yes)$/i.test(env.DUMP_TO_DUCKDB?.trim() ?? '');
}
