import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { isDeleted, type DeleteIndex } from '../iceberg/reader';
import type { ManifestEntry, NestedField } from '../iceberg/spec';
import type { ObjectStore } from '../storage/object-store';
import type { TableFileWriter } from '../parquet/partitioned-writer';
import { batchSource } from '../parquet/arrow-source';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Streams data files through a writer with their position deletes applied: one row group at a
 * time is decoded (memory: one compressed input file and one row group, plus the writer's own
 * row group), its live rows copied column by column.
 */
export async function rewriteFiles(
  store: ObjectStore,
  files: ManifestEntry[],
  fields: NestedField[],
  deletes: DeleteIndex,
  writer: TableFileWriter,
  signal?: AbortSignal,
): Promise<{ rowsRead: number; rowsWritten: number }> {
  let rowsRead = 0;
  let rowsWritten = 0;
  for (const entry of files) {
    signal?.throwIfAborted();
    const file = await pw.ParquetFile.fromFile(new Blob([await store.get(entry.dataFile.filePath)]));
    const stream = (await file.stream()) as unknown as AsyncIterable<pw.RecordBatch>;
    let base = 0;
    for await (const wasmBatch of stream) {
      const table = arrow.tableFromIPC(wasmBatch.intoIPCStream());
      for (const batch of table.batches) {
        const keep = new Int32Array(batch.numRows);
        let n = 0;
        for (let i = 0; i < batch.numRows; i++) if (!isDeleted(deletes.positions, entry, base + i)) keep[n++] = i;
        base += batch.numRows;
        if (n > 0) await writer.writeColumns(batchSource(batch, fields, keep.subarray(0, n)));
        rowsWritten += n;
      }
    }
    file.free();
    if (BigInt(base) !== entry.dataFile.recordCount) {
      throw new SyncError(`data file ${entry.dataFile.filePath} has ${base} rows, its manifest says ${entry.dataFile.recordCount}: not rewritten`, {
        code: ERROR_CODES.TABLE_INVALID,
        retryable: false,
      });
    }
    rowsRead += base;
  }
  return { rowsRead, rowsWritten };
}
