import type { DataFile, ManifestFile, SnapshotOperation } from '../spec';
import type { IcebergTable } from '../table';
import { AppendProducer } from './append';
import { positionDeletesFor } from './position-deletes';
import type { MergeKeys, RunKeys } from './types';

export type { MergeKeys } from './types';

/**
 * Upsert by key: an append whose snapshot also carries one position delete file for the parent's
 * live rows whose key is being replaced or deleted (Iceberg's `overwrite`). Written again on each
 * attempt's parent, so it only ever points at data files still live there.
 */
export class MergeProducer extends AppendProducer {
  override readonly operation: SnapshotOperation = 'overwrite';

  constructor(
    table: IcebergTable,
    runId: string,
    keys: RunKeys,
    files: DataFile[],
    properties: Record<string, string> | undefined,
    private readonly merge: MergeKeys,
  ) {
    super(table, runId, keys, files, properties);
  }

  protected override deleteFiles(kept: ManifestFile[], path: (n: number) => string): Promise<DataFile[]> {
    return positionDeletesFor(this.table, kept, this.merge, path);
  }
}
