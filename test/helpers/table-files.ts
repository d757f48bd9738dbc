import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { Namespace } from '../../src/iceberg/catalog';
import { parseJson } from '../../src/iceberg/json';
import { decodeManifest, decodeManifestList } from '../../src/iceberg/manifest';
import type { TableMetadata } from '../../src/iceberg/spec';
import { runPaths } from '../../src/iceberg/run-paths';
import type { IcebergTable } from '../../src/iceberg/table';
import { splitS3Uri } from '../../src/storage/object-store';
import type { S3ObjectStore } from '../../src/storage/s3';
import type { CatalogTarget } from './catalogs';
import { SYNC_RUNS_PROPERTY, SYNC_RUN_ID_PROPERTY } from '../../src/table-contract';

/**
 * The table metadata files the catalog accepted for a table, oldest first: Nessie's commit log
 * for the table's key (API v2, next to its Iceberg REST endpoint), each commit naming the
 * metadata JSON it made current.
 */
export async function nessieMetadataLog(catalogUri: string, namespace: Namespace, table: string): Promise<string[]> {
  const api = catalogUri.replace(/\/iceberg\/?$/, '/api/v2');
  const key = [...namespace, table].join('.');
  const out: string[] = [];
  let token: string | undefined;
  do {
    const url = `${api}/trees/main/history?fetch=ALL&max-records=200${token ? `&page-token=${encodeURIComponent(token)}` : ''}`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as {
      logEntries: { operations?: { type: string; key: { elements: string[] }; content?: { metadataLocation?: string } }[] }[];
      hasMore?: boolean;
      token?: string;
    };
    for (const entry of page.logEntries) {
      for (const op of entry.operations ?? []) {
        if (op.type === 'PUT' && op.key.elements.join('.') === key && op.content?.metadataLocation) out.push(op.content.metadataLocation);
      }
    }
    token = page.hasMore ? page.token : undefined;
  } while (token);
  return out.reverse();
}

/**
 * The table metadata files a catalog accepted for a table, oldest first: Nessie's commit log, or
 * where table metadata keeps its own log (the reference catalog), that log and the current file.
 */
export async function acceptedMetadataLog(target: CatalogTarget, t: IcebergTable): Promise<string[]> {
  if (target.name.startsWith('nessie')) return nessieMetadataLog(target.settings.ICEBERG_CATALOG_URI, t.namespace, t.name);
  const log = (t.metadata['metadata-log'] ?? []).map((entry) => entry['metadata-file']);
  return [...log, ...(t.loaded['metadata-location'] ? [t.loaded['metadata-location']] : [])];
}

export interface LocationAudit {
  /** Every object under the table's location. */
  files: string[];
  /** Objects that no accepted metadata references (directly or through its snapshots). */
  unreferenced: string[];
  /** Files accepted metadata references that are not there. */
  missing: string[];
  /** How many of the objects the current metadata alone references (its snapshots' files, and itself). */
  referencedByCurrent: number;
}

/**
 * Lists the table's whole location and sorts every object into referenced or not.
 *
 * Which metadata JSON files count as referenced: those the catalog accepted (`accepted`, its
 * commit log), and only those. They are the catalog's own files, one per commit it accepted, and
 * its history points at each (time travel by commit), so the manifest lists, manifests, data and
 * delete files of every snapshot in any of them are referenced too. This matters with Nessie,
 * which keeps only the current snapshot in the table metadata: the first, empty snapshot's list
 * and an earlier sync's files are referenced by history, not by the current metadata. A metadata
 * JSON the catalog wrote but whose commit it did not accept, and any file a writer put there that
 * no accepted metadata reaches, is unreferenced.
 */
export async function auditTableLocation(t: IcebergTable, accepted: string[]): Promise<LocationAudit> {
  const files: string[] = [];
  for await (const o of t.store.list(`${t.location}/`)) files.push(o.uri);
  const present = new Set(files);
  const referenced = new Set<string>();
  const current = new Set<string>();
  const readManifests = new Map<string, string[]>();
  const reach = async (metadata: TableMetadata, into: Set<string>) => {
    for (const s of metadata.snapshots ?? []) {
      into.add(s['manifest-list']);
      if (!present.has(s['manifest-list'])) continue;
      for (const m of decodeManifestList(await t.store.get(s['manifest-list']))) {
        into.add(m.manifestPath);
        if (!present.has(m.manifestPath)) continue;
        if (!readManifests.has(m.manifestPath))
          readManifests.set(
            m.manifestPath,
            decodeManifest(await t.store.get(m.manifestPath), m).map((e) => e.dataFile.filePath),
          );
        for (const f of readManifests.get(m.manifestPath)!) into.add(f);
      }
    }
  };
  for (const location of accepted) {
    referenced.add(location);
    if (!present.has(location)) continue;
    await reach(parseJson<TableMetadata>(Buffer.from(await t.store.get(location)).toString('utf8')), referenced);
  }
  if (t.loaded['metadata-location']) current.add(t.loaded['metadata-location']);
  await reach(t.metadata, current);
  return {
    files: files.sort(),
    unreferenced: files.filter((f) => !referenced.has(f)).sort(),
    missing: [...referenced].filter((f) => !present.has(f)).sort(),
    referencedByCurrent: files.filter((f) => current.has(f)).length,
  };
}

/**
 * What a sync run (`run`: `<child workflow id>@<run id>`) left in a table's folder: its data files
 * no live snapshot uses, staging manifests, open multipart uploads, its commits recorded by the
 * table and its snapshots listed, live data files, and the whole location's audit.
 */
export async function runLeftovers(t: IcebergTable, target: CatalogTarget, run: string) {
  const child = run.slice(0, run.lastIndexOf('@'));
  const live = await t.liveEntries();
  const liveFiles = new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath));
  const unused: string[] = [];
  for await (const o of t.store.list(runPaths(t.location, run).prefixes.data)) if (!liveFiles.has(o.uri)) unused.push(o.uri);
  const staging: string[] = [];
  for await (const o of t.store.list(`${t.location}/staging/`)) staging.push(o.uri);
  const { bucket, key } = splitS3Uri(`${t.location}/data/`);
  const uploads = await (t.store as S3ObjectStore).client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  const runs = (JSON.parse(t.metadata.properties?.[SYNC_RUNS_PROPERTY] ?? '[]') as { run: string }[]).filter((r) => r.run.startsWith(`${child}@`));
  // The whole location: every object referenced by a table metadata the catalog accepted.
  const location = await auditTableLocation(t, await acceptedMetadataLog(target, t));
  return {
    unused,
    staging,
    openUploads: uploads.Uploads?.length ?? 0,
    commitsOfRun: runs.length,
    snapshotsOfRun: t.snapshots().filter((s) => s.summary?.[SYNC_RUN_ID_PROPERTY]?.startsWith(`${child}@`)).length,
    dataFiles: live.data.length,
    unreferenced: location.unreferenced,
    missing: location.missing,
  };
}

/** What a run must not leave behind (runLeftovers): empty when its cleanup did its work. */
export function leftBehind(left: Awaited<ReturnType<typeof runLeftovers>>) {
  return { unused: left.unused, staging: left.staging, openUploads: left.openUploads, unreferenced: left.unreferenced, missing: left.missing };
}

export const NOTHING_LEFT = { unused: [], staging: [], openUploads: 0, unreferenced: [], missing: [] };
