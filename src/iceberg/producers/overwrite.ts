import type { ManifestFile, Snapshot, SnapshotOperation } from '../spec';
import { SnapshotProducer } from './base';

/** The files become the whole table: nothing of the parent is kept. */
export class OverwriteProducer extends SnapshotProducer {
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
