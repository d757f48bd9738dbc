import type { DeleteTargets } from '../iceberg/reader';
import type { ManifestEntry } from '../iceberg/spec';
import { partitionKey } from '../iceberg/spec/partition';

/*
 * What a compaction rewrites, decided from the manifests alone (pure, no I/O): data files below the
 * target size and every data file some position delete file applies to, bin-packed by size into
 * groups of about the target size, partition by partition (a bin holds files of one spec and one
 * partition tuple); and the delete files that become useless once those are rewritten with their
 * deletes applied.
 */

export interface CompactionOptions {
  /** Compressed bytes of the files compaction writes; files below `smallFileRatio` × this are small. */
  targetFileBytes: number;
  /** A file is small below this share of the target (default 0.75, as Iceberg's rewrite does). */
  smallFileRatio?: number;
  /** Small files are rewritten on their own (no file has deletes) only when at least this many are (default 2): one file alone gains nothing. */
  minInputFiles?: number;
}

export interface CompactionPlan {
  /**
   * Data files to rewrite, in groups of about the target size, each of one partition (spec and
   * tuple); a partition's bins come together, largest first: the order they are read and written in.
   */
  bins: ManifestEntry[][];
  /** Delete files that apply only to rewritten files: the rewrite removes them. */
  deleteFiles: ManifestEntry[];
  /** Position deletes (rows) those delete files hold: what the rewrite applies. */
  deletesApplied: bigint;
}

export function planCompaction(data: ManifestEntry[], deletes: ManifestEntry[], targets: DeleteTargets, opts: CompactionOptions): CompactionPlan {
  const small = opts.targetFileBytes * (opts.smallFileRatio ?? 0.75);
  const withDeletes = new Set<string>();
  const live = new Set(data.map((e) => e.dataFile.filePath));
  for (const d of deletes) for (const path of targets.get(d.dataFile.filePath) ?? []) if (live.has(path)) withDeletes.add(path);
  const groups = new Map<string, ManifestEntry[]>();
  for (const e of data) {
    const key = partitionOfEntry(e);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const bins: ManifestEntry[][] = [];
  const candidates: ManifestEntry[] = [];
  for (const files of groups.values()) {
    const smallOnes = files.filter((e) => Number(e.dataFile.fileSizeInBytes) < small && !withDeletes.has(e.dataFile.filePath));
    const deleted = files.filter((e) => withDeletes.has(e.dataFile.filePath));
    // Small files join a rewrite of their partition that happens anyway; alone, only when there are enough of them.
    const takeSmall = deleted.length > 0 || smallOnes.length >= (opts.minInputFiles ?? 2);
    const chosen = [...deleted, ...(takeSmall ? smallOnes : [])];
    candidates.push(...chosen);
    bins.push(...binPack(chosen, opts.targetFileBytes));
  }
  const rewritten = new Set(candidates.map((e) => e.dataFile.filePath));
  // A delete file goes when every live file it applies to is rewritten (the rest it names are gone already).
  const deleteFiles = deletes.filter((d) => [...(targets.get(d.dataFile.filePath) ?? [])].every((p) => rewritten.has(p) || !live.has(p)));
  return {
    bins,
    deleteFiles,
    deletesApplied: deleteFiles.reduce((n, d) => n + d.dataFile.recordCount, 0n),
  };
}

/** The partition a data file belongs to: its spec and tuple (files of one partition are compacted together). */
export function partitionOfEntry(e: ManifestEntry): string {
  return `${e.dataFile.specId ?? ''}/${partitionKey(e.dataFile.partition ?? [])}`;
}

/**
 * First-fit decreasing by file size: each bin holds at most `capacity` bytes of input (a file larger
 * than that gets a bin of its own), so each writes about one file of the target size.
 */
export function binPack(entries: ManifestEntry[], capacity: number): ManifestEntry[][] {
  const bins: { size: number; entries: ManifestEntry[] }[] = [];
  for (const e of [...entries].sort((a, b) => Number(b.dataFile.fileSizeInBytes - a.dataFile.fileSizeInBytes))) {
    const size = Number(e.dataFile.fileSizeInBytes);
    const bin = bins.find((b) => b.size + size <= capacity);
    if (bin) {
      bin.size += size;
      bin.entries.push(e);
    } else bins.push({ size, entries: [e] });
  }
  return bins.map((b) => b.entries);
}
