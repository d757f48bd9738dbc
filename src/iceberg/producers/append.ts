import type { ManifestFile, Snapshot, SnapshotOperation } from '../spec';
import { SnapshotProducer } from './base';

/** Adds the files; the parent's manifests are all kept as they are. */
export class AppendProducer extends SnapshotProducer {
  readonly operation: SnapshotOperation = 'append';

  protected keptManifests(parent: Snapshot): Promise<ManifestFile[]> {
    return this.table.manifests(parent);
  }
}
