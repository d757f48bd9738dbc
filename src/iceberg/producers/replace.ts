import type { ManifestFile, Snapshot, SnapshotOperation } from '../spec';
import { SnapshotProducer } from './base';

/** The files become the whole table (a sync's replace mode; Iceberg's `overwrite` operation): nothing of the parent is kept. */
export class ReplaceProducer extends SnapshotProducer {
  readonly operation: SnapshotOperation = 'overwrite';

  protected async keptManifests(): Promise<ManifestFile[]> {
    return [];
  }

  protected override keptFilesSize(): bigint {
    return 0n;
  }

  protected override removedSummary(parent: Snapshot): Record<string, string> {
    if (!parent.summary) return {};
    return {
      'deleted-data-files': parent.summary['total-data-files'] ?? '0',
      'deleted-records': parent.summary['total-records'] ?? '0',
      'removed-files-size': parent.summary['total-files-size'] ?? '0',
    };
  }
}
