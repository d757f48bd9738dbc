import { writePositionDeletes } from '../../parquet/writer';
import { compareCodePoints, decodeBound } from '../spec/bounds';
import { deletedPositions, isDeleted, readParquetColumns } from '../reader';
import type { DataFile, ManifestFile } from '../spec';
import { partitionKey, type PartitionTuple } from '../spec/partition';
import type { IcebergTable } from '../table';
import type { MergeKeys } from './types';
import { ERROR_CODES, SyncError } from '../../errors';

/**
 * Positions of the parent's live rows whose key is being replaced or deleted, as position delete
 * files (sorted by file, then position): one per partition (spec and tuple) of the data files they
 * name, recorded with that partition, as readers apply a delete file only to data files of its own
 * partition. Files whose key bounds cannot contain any of the keys are skipped without being read.
 */
export async function positionDeletesFor(table: IcebergTable, parentManifests: ManifestFile[], mode: MergeKeys, path: (n: number) => string): Promise<DataFile[]> {
  const keyField = table.schema().fields.find((f) => f.name === mode.keyColumn);
  if (!keyField) throw new SyncError(`${table.identifier} has no key column ${mode.keyColumn}`, { code: ERROR_CODES.SCHEMA_INCOMPATIBLE, retryable: false });
  const { data, deletes } = await table.liveEntriesOf(parentManifests);
  // Nothing to replace in a table without rows: the keys (a million for a first load) stay unread.
  if (data.length === 0) return [];
  const keys = [...new Set([...(typeof mode.keys === 'function' ? await mode.keys() : mode.keys), ...mode.deleteKeys])].sort(compareCodePoints);
  if (keys.length === 0) return [];
  const keySet = new Set(keys);
  const already = await deletedPositions(table.store, deletes);
  // Per partition: the partition's deletes, in file path order (data files are visited in that order).
  const groups = new Map<string, { specId?: number; partition: PartitionTuple; deletes: { filePath: string; pos: bigint }[] }>();
  for (const entry of [...data].sort((a, b) => (a.dataFile.filePath < b.dataFile.filePath ? -1 : 1))) {
    const lower = entry.dataFile.lowerBounds?.get(keyField.id);
    const upper = entry.dataFile.upperBounds?.get(keyField.id);
    if (lower && upper && !anyInRange(keys, decodeBound('string', lower) as string, decodeBound('string', upper) as string)) continue;
    // Only the key column's chunks are fetched, not the file.
    const t = await readParquetColumns(table.store, entry.dataFile.filePath, Number(entry.dataFile.fileSizeInBytes), [mode.keyColumn]);
    const column = t.getChild(mode.keyColumn)!;
    const partition = entry.dataFile.partition ?? [];
    const key = `${entry.dataFile.specId ?? ''}/${partitionKey(partition)}`;
    for (let i = 0; i < t.numRows; i++) {
      if (!keySet.has(column.get(i) as string) || isDeleted(already, entry, i)) continue;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { specId: entry.dataFile.specId, partition, deletes: [] }));
      group.deletes.push({ filePath: entry.dataFile.filePath, pos: BigInt(i) });
    }
  }
  const files: DataFile[] = [];
  for (const group of groups.values()) {
    const file = await writePositionDeletes({ store: table.store, path: path(files.length), deletes: group.deletes });
    files.push({ ...file, specId: group.specId, partition: group.partition });
  }
  return files;
}

/** Binary search: is any sorted key within [lower, upper]? */
export function anyInRange(sorted: string[], lower: string, upper: string): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(sorted[mid]!, lower) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && compareCodePoints(sorted[lo]!, upper) <= 0;
}
