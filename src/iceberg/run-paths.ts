import crypto from 'node:crypto';

/**
 * The one place that names the files a sync run writes under a table's location. Every file a run
 * writes — data files, position delete files, manifests, manifest lists, staging manifests — starts
 * with the run's segment, so cleanup finds all of it by listing three prefixes, on any worker, with
 * nothing but the run id:
 *
 *   data/<seg>-<nnnnn>-<uuid>.parquet                    data files (DataFileWriter, namePrefix = seg)
 *   data/<seg>-deletes-<snapshot id>-<attempt>[-<n>].parquet   position deletes of a commit attempt (one per partition)
 *   metadata/<seg>-<snapshot id>-<uuid>-m<content>.avro  manifests (content 0 = data, 1 = deletes)
 *   metadata/<seg>-snap-<snapshot id>-<attempt>-<uuid>.avro  manifest lists (attempt 0: a table's first, empty snapshot)
 *   staging/<seg>.json, staging/<seg>.at-<rows>.json (+ .keys)  staging manifests and their merge keys
 *
 * The segment is `<readable>.<hash>`: the run id with every run of characters other than ASCII
 * letters and digits turned into `_` (at most 80 of them, for people looking at a bucket), a dot,
 * and 16 hex digits of the SHA-256 of the run id. It is one path segment whatever the run id holds
 * (`/`, `@`, `%`, non-ASCII), of bounded length, and stands for exactly one run: it contains no `-`,
 * so in `<seg>-…` the segment ends at the first `-`, and its only `.` comes right before the hash,
 * so in `<seg>.…` it ends 17 characters after the first `.`. A prefix of one run therefore never
 * matches another run's files (whose segment differs in its hash) nor the files of other engines
 * (Java/Spark/pyiceberg name theirs `00000-0-<uuid>.parquet`, `snap-<id>-1-<uuid>.avro`,
 * `<uuid>-m0.avro`, `<n>-<uuid>.metadata.json`: none has a `.` followed by hex before its first `-`).
 */
export function runSegment(runId: string): string {
  const readable = runId.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 80) || 'run';
  const hash = crypto.createHash('sha256').update(runId, 'utf8').digest('hex').slice(0, 16);
  return `${readable}.${hash}`;
}

export type RunFileKind = 'data' | 'deletes' | 'manifest' | 'manifest-list' | 'staging';

export interface RunPaths {
  runId: string;
  segment: string;
  /** The run's files, by where they sit: what cleanup lists. */
  prefixes: { data: string; metadata: string; staging: string };
  /** Folder and name prefix for the data files (the writer adds `-<nnnnn>-<uuid>.parquet`). */
  dataFolder: string;
  /** Position delete file of one commit attempt (the n-th: a partitioned table's has one per partition). */
  deleteFile(snapshotId: bigint, attempt: number, n?: number): string;
  /** Manifest of the files one snapshot adds (content 0: data, 1: deletes). */
  manifest(snapshotId: bigint, content: number): string;
  /** Manifest list of one commit attempt; attempt 0 is the empty first snapshot of a table. */
  manifestList(snapshotId: bigint, attempt: number): string;
  /** Staging manifest; `suffix` tells a checkpoint's apart (e.g. `.at-4000`). */
  staging(suffix?: string): string;
  /** What a file under one of the prefixes is, and for metadata files the snapshot they were written for. */
  classify(uri: string): { kind: RunFileKind; snapshotId?: bigint } | undefined;
}

/** Every path the run `runId` writes under the table location `location`. */
export function runPaths(location: string, runId: string): RunPaths {
  const base = location.replace(/\/+$/, '');
  const segment = runSegment(runId);
  const prefixes = { data: `${base}/data/${segment}-`, metadata: `${base}/metadata/${segment}-`, staging: `${base}/staging/${segment}.` };
  return {
    runId,
    segment,
    prefixes,
    dataFolder: `${base}/data`,
    deleteFile: (snapshotId, attempt, n = 0) => `${prefixes.data}deletes-${snapshotId}-${attempt}${n > 0 ? `-${n}` : ''}.parquet`,
    manifest: (snapshotId, content) => `${prefixes.metadata}${snapshotId}-${crypto.randomUUID()}-m${content}.avro`,
    manifestList: (snapshotId, attempt) => `${prefixes.metadata}snap-${snapshotId}-${attempt}-${crypto.randomUUID()}.avro`,
    staging: (suffix = '') => `${prefixes.staging}${suffix.replace(/^\.+/, '')}${suffix ? '.' : ''}json`,
    classify(uri) {
      if (uri.startsWith(prefixes.staging)) return { kind: 'staging' };
      if (uri.startsWith(prefixes.data)) return { kind: uri.startsWith(`${prefixes.data}deletes-`) ? 'deletes' : 'data' };
      if (!uri.startsWith(prefixes.metadata)) return undefined;
      const rest = uri.slice(prefixes.metadata.length);
      const list = /^snap-(\d+)-/.exec(rest);
      if (list) return { kind: 'manifest-list', snapshotId: BigInt(list[1]!) };
      const manifest = /^(\d+)-/.exec(rest);
      return { kind: 'manifest', snapshotId: manifest ? BigInt(manifest[1]!) : undefined };
    },
  };
}
