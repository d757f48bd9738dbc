import { decodeManifest, decodeManifestList } from '../iceberg/manifest';
import type { Snapshot } from '../iceberg/spec';
import type { IcebergTable } from '../iceberg/table';

/** Files some snapshots reference, by kind, with sizes where the manifests tell them. */
export interface SnapshotFiles {
  manifestLists: Set<string>;
  manifests: Set<string>;
  /** Data and delete files (any entry status: a file a snapshot marks deleted is still its parent's). */
  files: Map<string, bigint>;
}

/**
 * Everything the snapshots reference: manifest lists, the manifests they list, and the data and
 * delete files those list. Each manifest is read once however many snapshots share it; `manifestsRead`
 * carries what an earlier call read.
 */
export async function snapshotFiles(table: IcebergTable, snapshots: Snapshot[], manifestsRead = new Map<string, Map<string, bigint>>()): Promise<SnapshotFiles> {
  const out: SnapshotFiles = { manifestLists: new Set(), manifests: new Set(), files: new Map() };
  for (const snapshot of snapshots) {
    out.manifestLists.add(snapshot['manifest-list']);
    for (const m of decodeManifestList(await table.store.get(snapshot['manifest-list']))) {
      out.manifests.add(m.manifestPath);
      let files = manifestsRead.get(m.manifestPath);
      if (!files) {
        files = new Map(decodeManifest(await table.store.get(m.manifestPath), m).map((e) => [e.dataFile.filePath, e.dataFile.fileSizeInBytes]));
        manifestsRead.set(m.manifestPath, files);
      }
      for (const [path, size] of files) out.files.set(path, size);
    }
  }
  return out;
}

/** Every path in the files (manifest lists, manifests, data and delete files). */
export function allPaths(f: SnapshotFiles): Set<string> {
  return new Set([...f.manifestLists, ...f.manifests, ...f.files.keys()]);
}
