import type { ManifestFile, Snapshot, SnapshotOperation } from '../spec';
import { AddFilesProducer } from './add-files';
import type { Produced } from './base';

/**
 * The files become the whole table: nothing of the parent is kept (Iceberg's `overwrite`; a sync's
 * `replace` write mode).
 */
export class OverwriteProducer extends AddFilesProducer {
  readonly operation: SnapshotOperation = 'overwrite';

  protected async keptManifests(): Promise<ManifestFile[]> {
    return [];
  }

  protected override keptFilesSize(): bigint {
    return 0n;
  }

  /** The parent's whole content, as its summary tells. */
  protected override removed(parent: Snapshot): Produced['removed'] {
    const count = (key: string) => BigInt(parent.summary?.[key] ?? '0');
    return { dataFiles: count('total-data-files'), records: count('total-records'), filesSize: count('total-files-size') };
  }
}
