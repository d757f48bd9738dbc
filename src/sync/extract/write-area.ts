import { runPaths, type RunPaths } from '../../iceberg/run-paths';
import { openTableWriter, type TableFileWriter } from '../../parquet/partitioned-writer';
import type { SalesforceClient } from '../../salesforce/client';
import { runDescribe, syncableFields } from '../../salesforce/describe';
import type { WriteTarget } from '../../destinations/destination';
import type { PreparedObject, SyncContext } from '../types';
import { alignColumns, type ColumnAlignment } from './column-aligner';

/** Where an extraction (whole or one partition) writes, and with what: the same for both. */
export interface WriteArea {
  table: WriteTarget;
  describe: Awaited<ReturnType<typeof runDescribe>>;
  columns: ColumnAlignment;
  paths: RunPaths;
  /** Writes the table's layout: one file at a time, or per partition of its spec, sorted by its sort order. */
  writer: TableFileWriter;
}

/**
 * The table's write target, the object's describe, the columns aligned to it, the run's paths and
 * a data file writer under them (on the worker's encoder threads) that writes the table's current
 * default partition spec and sort order.
 */
export async function openWriteArea(ctx: SyncContext, salesforce: SalesforceClient, p: PreparedObject): Promise<WriteArea> {
  const table = await ctx.destination.writeTarget(p);
  const describe = await runDescribe(salesforce, p.object, p.runId);
  const columns = alignColumns(table.columns, syncableFields(describe, { hidden: p.hiddenFields }), ctx.naming ?? 'snake_case');
  const paths = runPaths(table.location, p.runId);
  const writer = openTableWriter({
    fields: table.columns,
    store: table.store,
    location: paths.dataFolder,
    namePrefix: paths.segment,
    dictionaryColumns: columns.dictionaryColumns,
    encoders: ctx.encoders,
    spec: table.spec,
    sortOrder: table.sortOrder,
    ...ctx.layout,
  });
  return { table, describe, columns, paths, writer };
}
