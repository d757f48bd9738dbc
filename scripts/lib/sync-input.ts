import { Option, type Command } from 'commander';
import { Connection, Client } from '@temporalio/client';
import { parseSyncInput, type SalesforceSyncInput } from '../../workflows/input';
import { temporalConnection, type TemporalConnection } from '../../worker/temporal-connection';

export interface SyncInputOptions {
  full?: boolean;
  reconcile?: boolean;
  /** Publish every object in one catalog transaction. */
  atomic?: boolean;
  namespace?: string;
  /** Object=replace|merge|append, repeatable. */
  writeMode?: string[];
  /** The old name of --write-mode, still read. */
  mode?: string[];
  /** Objects whose formula fields are refreshed (every row re-read). */
  refreshFormulas?: string[];
  /** false (--no-backfill-new-fields): new columns are not filled on rows already in a table. */
  backfillNewFields?: boolean;
  /** Partition fields, `[Object=]field` (without an object: every object's), repeatable. */
  partitionBy?: string[];
  /** Sort fields, `[Object=]column [desc]`, repeatable. */
  sortBy?: string[];
}

/** The options `npm run sync` and `npm run schedule -- create` share. */
export function withSyncInputOptions(command: Command): Command {
  return (
    command
      .argument('[objects...]', 'Salesforce objects (default: Account Contact Opportunity OpportunityContactRole)')
      .option('--full', 'read everything, ignoring stored cursors')
      .option('--reconcile', 'also remove rows Salesforce no longer has (hard deletes, emptied Recycle Bin): merge-mode objects')
      .option('--atomic', 'publish all objects in one catalog transaction (all or none; the catalog must serve transactions/commit)')
      .option('--namespace <ns>', "Iceberg namespace (default: the worker's SYNC_NAMESPACE or ICEBERG_NAMESPACE, else salesforce)")
      .option('--write-mode <Object=mode>', 'per-object write mode: replace, merge or append (repeatable)', (m: string, all: string[]) => [...all, m], [] as string[])
      // The flag's old name: scripts and notes written with it keep working.
      .addOption(new Option('--mode <Object=mode>', 'old name of --write-mode').argParser((m: string, all: string[] = []) => [...all, m]).hideHelp())
      .option(
        '--refresh-formulas <Object>',
        're-read every row of this merge object so formula fields are current (repeatable)',
        (m: string, all: string[]) => [...all, m],
        [] as string[],
      )
      .option('--no-backfill-new-fields', 'do not re-read an object to fill columns a sync adds on the rows already in its table')
      .option(
        '--partition-by <[Object=]field>',
        'a partition field of every table, or of one object\'s ("Task=month(CreatedDate)", "bucket(16, AccountId)"; repeatable, in order)',
        (m: string, all: string[]) => [...all, m],
        [] as string[],
      )
      .option(
        '--sort-by <[Object=]column>',
        'a sort column of every table, or of one object\'s ("Task=CreatedDate desc"; repeatable, in order)',
        (m: string, all: string[]) => [...all, m],
        [] as string[],
      )
      .option('--task-queue <queue>', 'task queue of the worker')
  );
}

/**
 * The workflow input those options describe, in the input's current names, checked by the
 * workflow's own schema: a bad object name, namespace or write mode is refused here, before
 * anything starts, in the words the workflow would use (`Invalid sync input: objects[0]: must be ...`).
 */
export function syncInput(objects: string[], opts: SyncInputOptions): SalesforceSyncInput {
  const overrides: Record<string, { writeMode?: string; refreshFormulas?: boolean; partitionBy?: string[]; sortBy?: string[] }> = {};
  const flags = [...(opts.writeMode ?? []).map((m) => ['--write-mode', m]), ...(opts.mode ?? []).map((m) => ['--mode', m])];
  for (const [flag, m] of flags as [string, string][]) {
    const eq = m.indexOf('=');
    if (eq < 1) throw new Error(`${flag} ${m}: expected Object=replace|merge|append`);
    const [object, writeMode] = [m.slice(0, eq), m.slice(eq + 1)];
    const before = overrides[object]?.writeMode;
    if (before !== undefined && before !== writeMode) throw new Error(`${flag} ${m}: ${object} is given two write modes (${before} and ${writeMode})`);
    overrides[object] = { writeMode };
  }
  for (const object of opts.refreshFormulas ?? []) overrides[object] = { ...overrides[object], refreshFormulas: true };
  // The table layout: `Object=field` is the object's own, a bare field every object's.
  const layout: { partitionBy?: string[]; sortBy?: string[] } = {};
  for (const key of ['partitionBy', 'sortBy'] as const) {
    for (const given of opts[key] ?? []) {
      const m = /^([A-Za-z][A-Za-z0-9_]*)=(.*)$/.exec(given);
      if (m) overrides[m[1]!] = { ...overrides[m[1]!], [key]: [...(overrides[m[1]!]?.[key] ?? []), m[2]!] };
      else layout[key] = [...(layout[key] ?? []), given];
    }
  }
  return parseSyncInput({
    ...(objects.length ? { objects } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    readMode: opts.full ? 'full' : 'incremental',
    ...(opts.reconcile ? { reconcile: true } : {}),
    ...(opts.atomic ? { atomic: true } : {}),
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(opts.backfillNewFields === false ? { backfillNewFields: false } : {}),
    ...layout,
  });
}

/**
 * A Temporal client from settings; close the connection when done. A wrong TEMPORAL_* setting,
 * profile or certificate file is named here, not by the SDK.
 */
export async function temporalClient(env: Record<string, string | undefined>): Promise<{ client: Client; connection: Connection; temporal: TemporalConnection }> {
  const temporal = temporalConnection(env);
  const connection = await Connection.connect(temporal.options);
  return { client: new Client({ connection, namespace: temporal.namespace }), connection, temporal };
}
