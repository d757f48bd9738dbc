import type { DataFile } from '../../iceberg/spec';
import type { UsageCounts } from '../../salesforce/budget';
import type { ReadApiUsed, RecordPage } from '../../salesforce/reader';
import type { ObjectStore } from '../../storage/object-store';
import type { ExtractCheckpoint } from '../types';
import { KeyList, readStaging, writeStaging } from '../staging';

export interface CheckpointerOptions {
  store: ObjectStore;
  runId: string;
  /** Names a staging manifest of the run (`runPaths(...).staging`). */
  stagingPath: (suffix?: string) => string;
  /** The attempt's data file writer: its closed files, and closing the open one. */
  writer: { readonly files: DataFile[]; flush(): Promise<unknown> };
  /** Least time between checkpoints (each closes the open data file). */
  everyMs: number;
  now?: () => number;
}

/**
 * Keeps what an extraction has staged — the data files (an earlier attempt's and this one's), the
 * Ids they hold, the row count — and records it as staging manifests: now and then a checkpoint a
 * new attempt can resume from, and at the end the manifest the commit reads.
 */
export class Checkpointer {
  /** The last checkpoint: this attempt's latest, or the one it resumed from. */
  checkpoint?: ExtractCheckpoint;
  /** Which API the rows came through, and why REST when they did: recorded in every manifest, so a resumed attempt still knows. */
  readApi?: ReadApiUsed;
  private checkpointedAt: number;
  private readonly now: () => number;

  private constructor(
    private readonly opts: CheckpointerOptions,
    /** Files an earlier attempt staged before the checkpoint this one resumes from. */
    private readonly earlier: DataFile[],
    readonly keys: KeyList,
    public rows: number,
    resumed: ExtractCheckpoint | undefined,
    readApi: ReadApiUsed | undefined,
  ) {
    this.now = opts.now ?? Date.now;
    this.checkpoint = resumed;
    this.readApi = readApi;
    this.checkpointedAt = this.now();
  }

  /** Starts afresh, or from a checkpoint (reading back its staging manifest and Ids). */
  static async open(opts: CheckpointerOptions, resume?: ExtractCheckpoint): Promise<Checkpointer> {
    const earlier = resume ? await readStaging(opts.store, resume.staging) : undefined;
    const keys = earlier ? await earlier.loadKeys() : new KeyList();
    return new Checkpointer(opts, earlier?.files ?? [], keys, resume?.rows ?? 0, resume, earlier?.readApi);
  }

  /**
   * Notes the API a page came through. A page of the API that was chosen takes the choice's reason
   * (`chosen`); a REST page after none keeps the reason given before it (Bulk refused, from
   * `fellBack`); an attempt resumed keeps its earlier attempt's reason.
   */
  noteApi(api: 'bulk' | 'rest' | undefined, chosen?: ReadApiUsed): void {
    if (api === undefined || this.readApi?.api === api) return;
    this.readApi = chosen?.api === api ? chosen : { api };
  }

  /** Notes why the read goes through REST although Bulk was asked for (Salesforce refused it). */
  fellBack(reason: string): void {
    this.readApi = { api: 'rest', reason };
  }

  /** Every data file staged so far, earlier attempts' first. */
  get files(): DataFile[] {
    return [...this.earlier, ...this.opts.writer.files];
  }

  get fileCount(): number {
    return this.earlier.length + this.opts.writer.files.length;
  }

  /** Counts a page the writer has taken: its rows, and its Ids (column `idAt`) as merge keys. */
  add(page: Pick<RecordPage, 'length' | 'text'>, idAt: number): void {
    for (let r = 0; r < page.length; r++) this.keys.add(page.text(r, idAt)!);
    this.rows += page.length;
  }

  /** Whether to checkpoint after this page: a read can go on from it, and `everyMs` has passed since the last. */
  due(page: Pick<RecordPage, 'position'>): boolean {
    return page.position !== undefined && this.now() - this.checkpointedAt >= this.opts.everyMs;
  }

  /** Closes the open data file and records everything staged so far as a checkpoint after `page`. */
  async save(page: Pick<RecordPage, 'last' | 'position'>, extra: { pages?: number } = {}): Promise<ExtractCheckpoint> {
    await this.opts.writer.flush();
    const staging = this.opts.stagingPath(`at-${this.rows}`);
    await writeStaging(this.opts.store, staging, { runId: this.opts.runId, files: this.files, keys: this.keys, deletedKeys: [], readApi: this.readApi });
    this.checkpoint = { staging, rows: this.rows, files: this.fileCount, last: page.last, position: page.position, ...(extra.pages !== undefined ? { pages: extra.pages } : {}) };
    this.checkpointedAt = this.now();
    return this.checkpoint;
  }

  /**
   * Writes the staging manifest the commit reads (the writer closed): the files, their Ids, the
   * Ids to delete — those Salesforce reported deleted, then those a reconciliation found gone —
   * and what the sync spent. Returns its key.
   */
  async finish(end: { deletedKeys: string[]; reconciled?: string[]; usage: UsageCounts }): Promise<string> {
    const staging = this.opts.stagingPath();
    const deletedKeys = end.reconciled ? end.deletedKeys.concat(end.reconciled) : end.deletedKeys;
    await writeStaging(this.opts.store, staging, {
      runId: this.opts.runId,
      files: this.files,
      keys: this.keys,
      deletedKeys,
      reconciled: end.reconciled?.length,
      usage: end.usage,
      readApi: this.readApi,
    });
    return staging;
  }
}
