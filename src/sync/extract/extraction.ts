import type { RunPaths } from '../../iceberg/run-paths';
import { noLog, type Logger } from '../../log';
import type { UsageCounts } from '../../salesforce/budget';
import type { SalesforceClient } from '../../salesforce/client';
import type { ReadApi, ReadApiUsed, RecordPage } from '../../salesforce/reader';
import type { KeyList } from '../staging';
import type { ExtractCheckpoint, ExtractOptions, ExtractResult, PreparedObject, SyncContext } from '../types';
import { budgetedClient } from './budgeted-client';
import { WORKER_READS_REST } from '../read-api';
import { Checkpointer } from './checkpointer';
import { StageTimer } from './stage-timer';
import { openWriteArea, type WriteArea } from './write-area';

/** Least time between checkpoints by default (each closes the open data file). */
export const DEFAULT_CHECKPOINT_MS = 60_000;

/** A page as the extraction writes it, whichever reader it came from. */
export interface ExtractedPage extends Pick<RecordPage, 'length' | 'text' | 'last' | 'position' | 'columns'> {
  api?: ReadApi;
  /** Result pages read so far, this one included (recorded in a partition's checkpoints). */
  pages?: number;
}

/**
 * What differs between the whole object's extraction and one partition's: where the read starts
 * and goes on from, what it reads, what its manifests are called, and what it stages besides the rows.
 */
export interface ExtractionSource {
  /** What the logs call it: the object, or one partition of it. */
  name: string;
  /** What the sync spent before this extraction, when no earlier attempt says (`ExtractOptions.usage`). */
  spent?: UsageCounts;
  /** Names its staging manifests (the final one without a suffix, checkpoints with one). */
  stagingPath(paths: RunPaths): (suffix?: string) => string;
  /** The checkpoint of an earlier attempt this one reads on from; undefined: from the start. */
  resume(salesforce: SalesforceClient, log: Logger): Promise<ExtractCheckpoint | undefined>;
  /**
   * The pages to write, from the checkpoint on. A page without a `position` is never checkpointed
   * after. `onFallback` is told why a read that asked for Bulk goes through REST.
   */
  pages(salesforce: SalesforceClient, area: WriteArea, resume: ExtractCheckpoint | undefined, onFallback: (reason: string) => void): Promise<AsyncIterable<ExtractedPage>>;
  /** After the last page: the Ids to delete (and those of them a reconciliation found), staged with the rows. */
  deletes?(salesforce: SalesforceClient, area: WriteArea, keys: KeyList): Promise<{ deletedKeys: string[]; reconciled?: string[] }>;
}

/**
 * The extraction loop, the same for the whole object and for one partition of it: reads through
 * the client under the API budget, writes each page into data files, and every `checkpointMs`
 * closes the open file and records what was written so far, so a new attempt given that
 * checkpoint reads on from the page after it. At the end it stages everything for the commit.
 */
export async function runExtraction(ctx: SyncContext, p: PreparedObject, opts: ExtractOptions, source: ExtractionSource): Promise<ExtractResult> {
  const log = ctx.log ?? noLog;
  const { salesforce, budget } = await budgetedClient(ctx.salesforce.withLog(log), {
    api: ctx.api,
    spent: opts.usage ?? source.spent,
    signal: opts.signal,
    progress: opts.progress,
    log,
    // Rows already read (prepare's) cost no call the budget could hold back.
    check: !opts.prefetched,
  });
  const area = await openWriteArea(ctx, salesforce, p);
  const { table, columns, paths, writer } = area;
  const resume = await source.resume(salesforce, log);
  if (resume)
    log.info(`Resuming ${source.name} after ${resume.rows} rows${resume.pages !== undefined ? `, ${resume.pages} result pages` : ''} (checkpoint ${resume.staging})`, {
      rows: resume.rows,
      files: resume.files,
      ...(resume.pages !== undefined ? { pages: resume.pages } : {}),
    });
  const checkpointer = await Checkpointer.open(
    { store: table.store, runId: p.runId, stagingPath: source.stagingPath(paths), writer, everyMs: opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    resume,
  );
  const timer = new StageTimer();
  const pages = (await source.pages(salesforce, area, resume, (reason) => checkpointer.fellBack(reason)))[Symbol.asyncIterator]();
  // Why the pages come through the API they do: prepare's choice (a result of an older worker has none: the worker's setting).
  const chosen: ReadApiUsed | undefined = p.readApi ?? (ctx.api === 'rest' ? { api: 'rest', reason: WORKER_READS_REST } : undefined);
  const nextPage = () => timer.read(() => pages.next());
  for (let next = await nextPage(); !next.done; next = await nextPage()) {
    const page = next.value;
    opts.signal?.throwIfAborted();
    await writer.writeColumns(page.columns(columns.at));
    checkpointer.add(page, columns.idAt);
    checkpointer.noteApi(page.api === 'auto' ? undefined : page.api, chosen);
    if (checkpointer.due(page)) {
      await checkpointer.save(page, { pages: page.pages });
      log.info(`Checkpoint of ${source.name} at ${checkpointer.rows} rows`, { rows: checkpointer.rows, files: checkpointer.fileCount, staging: checkpointer.checkpoint?.staging });
    }
    log.debug(`Page of ${page.length} rows`, { api: page.api, rows: checkpointer.rows, files: checkpointer.fileCount });
    opts.progress?.({ rows: checkpointer.rows, files: checkpointer.fileCount, last: page.last, checkpoint: checkpointer.checkpoint, retrying: undefined });
  }
  await writer.close();
  const { deletedKeys, reconciled } = (await source.deletes?.(salesforce, area, checkpointer.keys)) ?? { deletedKeys: [] };
  const usage = budget.usage;
  const staging = await checkpointer.finish({ deletedKeys, reconciled, usage });
  const files = checkpointer.files;
  opts.progress?.({ rows: checkpointer.rows, files: files.length, checkpoint: checkpointer.checkpoint, usage });
  log.info(`Extracted ${source.name}: ${checkpointer.rows} rows in ${files.length} files`, {
    rows: checkpointer.rows,
    files: files.length,
    deleted: deletedKeys.length,
    ...(reconciled ? { reconciled: reconciled.length } : {}),
    staging,
  });
  return {
    staging,
    rows: checkpointer.rows,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + Number(f.fileSizeInBytes), 0),
    deleted: deletedKeys.length,
    ...(reconciled ? { reconciled: reconciled.length } : {}),
    timings: timer.timings(writer.timings),
    usage,
  };
}
