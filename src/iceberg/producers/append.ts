import type { ManifestFile, Snapshot, SnapshotOperation } from '../spec';
import { AddFilesProducer } from './add-files';

/** Adds the files; the parent's manifests are all kept as they are (Iceberg's `append`). */
export class AppendProducer extends AddFilesProducer {
  readonly operation: SnapshotOperation = 'append';

  protected keptManifests(parent: Snapshot): Promise<ManifestFile[]> {
    return this.table.manifests(parent);
  }
}
