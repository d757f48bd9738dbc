/**
 * The input of salesforceSync (and, more lightly, of its syncObject children) in one zod schema:
 *
 * - the workflows check their input with it before anything else and fail at once, non-retryably,
 *   listing every problem (zod is plain computation — no clock, no I/O, no randomness — so this is
 *   deterministic workflow code, and it adds no command to the history);
 * - `npm run sync` and `npm run schedule -- create` build their input through it, so a bad
 *   object name or write mode is refused before anything starts, in the same words;
 * - it reads the keys' old names too (Schedules hold inputs written with them) and gives the
 *   workflows the input in the current names only (see OLD_NAMES).
 * - describeInput() documents it: `npm run env -- input`, and the README's table (a unit test
 *   keeps them equal).
 *
 * Workflow code imports this module: it may import only zod, Temporal's pure helpers, the pure
 * constants of src/sync/objects and the pure layout parser of src/iceberg/spec/layout-syntax,
 * never src/ code that does I/O.
 */
import { msToNumber, type Duration } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { CommitSummary, StagedObject } from '../src/sync/types';
import {
  DEFAULT_NAMESPACE,
  DEFAULT_OBJECTS,
  IDENTIFIER_PATTERN,
  IDENTIFIER_RULE,
  NAMESPACE_PATTERN,
  NAMESPACE_RULE,
  READ_MODES,
  REPLACE_OBJECTS,
  WRITE_MODES,
  defaultWriteMode,
} from '../src/sync/objects';
import { editDistance } from '../src/edit-distance';
import { layoutSyntaxProblems } from '../src/iceberg/spec/layout-syntax';

/** The ApplicationFailure type of a workflow that refused its input. */
export const INVALID_INPUT = 'InvalidInput';

export const INPUT_DEFAULTS = {
  objects: DEFAULT_OBJECTS,
  readMode: 'incremental',
  namespace: DEFAULT_NAMESPACE,
  concurrency: 4,
  heartbeatTimeout: '60 seconds',
  retryTimeout: '30 minutes',
  maxHistoryEvents: 2_000,
} as const;

const LIMITS = {
  concurrency: [1, 100],
  heartbeatTimeoutMs: [2_000, 30 * 60_000],
  retryTimeoutMs: [10_000, 7 * 24 * 3600_000],
  maxHistoryEvents: [10, 50_000],
} as const;

/** What each value must be: the error messages and the reference say the same thing. */
const MUST = {
  input: 'an object of sync options such as {"objects": ["Account"]}',
  objects: 'a non-empty list of Salesforce object names',
  objectName: 'a Salesforce object name: letters, digits and underscores, starting with a letter',
  readMode: 'incremental or full',
  namespace: `an Iceberg namespace: ${NAMESPACE_RULE}`,
  overrides:
    'an object from Salesforce object names to {"writeMode": "replace" | "merge" | "append", "reconcile": true | false, "backfillNewFields": true | false, "refreshFormulas": true | false, "partitionBy": [...], "sortBy": [...]}',
  override: 'an object such as {"writeMode": "replace"} or {"refreshFormulas": true}',
  reconcile: 'true or false',
  backfillNewFields: 'true or false',
  refreshFormulas: 'true or false',
  partitionBy:
    'a list of partition fields, each a column or a transform of one: "Type", "month(CreatedDate)" (also year, day, hour, identity), "bucket(16, AccountId)", "truncate(4, Name)"',
  sortBy: 'a list of columns, each optionally followed by " desc", such as ["AccountId", "CreatedDate desc"]',
  layoutField: 'text such as "month(CreatedDate)" or "AccountId"',
  syncWideLayout: 'a list of partitionBy and sortBy',
  atomic: 'true or false',
  writeMode: 'replace, merge or append',
  concurrency: `a whole number from ${LIMITS.concurrency[0]} to ${LIMITS.concurrency[1]}`,
  heartbeatTimeout: 'a duration from 2 seconds to 30 minutes, such as "30 seconds", "1m" or a number of milliseconds',
  retryTimeout: 'a duration from 10 seconds to 7 days, such as "30 minutes", "2h" or a number of milliseconds',
  maxHistoryEvents: `a whole number from ${LIMITS.maxHistoryEvents[0]} to ${LIMITS.maxHistoryEvents[1]}`,
  done: 'the list of objects already done that the workflow carries across continue-as-new',
  namespaceList: 'a non-empty list of identifiers',
  identifier: `an identifier: ${IDENTIFIER_RULE}`,
  full: 'true or false',
} as const;

/** A value as a message shows it: JSON, cut short. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // a BigInt or a cycle: not JSON
  }
  text ??= String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** The error of a schema and of its checks: "must be <what> (it is <value>)". */
function must(what: string) {
  return { error: (issue: { input?: unknown }) => `must be ${what} (it is ${shown(issue.input)})` };
}

const OBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Milliseconds as Temporal reads a duration (the `ms` format or a number of ms), or undefined. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const ms = msToNumber(value as Duration);
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

const objectName = z.string(must(MUST.objectName)).regex(OBJECT_NAME);
const identifier = z.string(must(MUST.identifier)).regex(IDENTIFIER_PATTERN);
const wholeNumber = (what: string, [min, max]: readonly [number, number]) => z.number(must(what)).int().min(min).max(max);
// A string in the `ms` format or a number of milliseconds (Temporal's Duration, whose string type
// does not resolve under this project's module settings).
const duration = ([min, max]: readonly [number, number], what: string) =>
  z.custom<string | number>((v) => {
    const ms = durationMs(v);
    return ms !== undefined && Number.isInteger(ms) && ms >= min && ms <= max;
  }, must(what));
const heartbeatTimeout = duration(LIMITS.heartbeatTimeoutMs, MUST.heartbeatTimeout);
const retryTimeout = duration(LIMITS.retryTimeoutMs, MUST.retryTimeout);
const readMode = z.enum(READ_MODES, must(MUST.readMode));
const writeMode = z.enum(WRITE_MODES, must(MUST.writeMode));
const backfillNewFields = z.boolean(must(MUST.backfillNewFields));
const refreshFormulas = z.boolean(must(MUST.refreshFormulas));
/** A list of partition (or sort) fields: each one's syntax is checked here, its columns and their types by prepare. */
const layoutList = (kind: 'partitionBy' | 'sortBy') =>
  z.array(z.string(must(MUST.layoutField)), must(MUST[kind])).superRefine((texts, ctx) => {
    for (const message of layoutSyntaxProblems(kind, texts)) ctx.addIssue({ code: 'custom', input: texts, message });
  });
const partitionBy = layoutList('partitionBy');
const sortBy = layoutList('sortBy');

/**
 * Keys read under an old name too: `mode` was both the sync's read mode (incremental or full) and
 * an object's write mode (replace, merge or append). Schedules keep the inputs they were created
 * with, so the old names are read for good, with the same meaning; the reference shows the new
 * names only, and the workflows see only those (the schemas below rename what they check).
 */
const OLD_NAMES = { readMode: 'mode', writeMode: 'mode' } as const;

/**
 * A key given under both its names must have one value under both; a value of the wrong kind is
 * reported on its own, so only two valid, different values conflict.
 */
function conflictingNames(value: Record<string, unknown>, current: keyof typeof OLD_NAMES, allowed: readonly string[], path: PropertyKey[], ctx: z.core.$RefinementCtx): void {
  const old = OLD_NAMES[current];
  const [given, before] = [value[current], value[old]];
  if (!allowed.includes(given as string) || !allowed.includes(before as string) || given === before) return;
  ctx.addIssue({
    code: 'custom',
    path: [...path, old],
    input: before,
    message: `is the old name of ${current}, and the two differ (${old} ${shown(before)}, ${current} ${shown(given)}): give ${current} only`,
  });
}

/** What `overrides` may set for one object. */
const overrideShape = {
  writeMode: writeMode.optional(),
  /** The old name of writeMode. */
  mode: writeMode.optional(),
  reconcile: z.boolean(must(MUST.reconcile)).optional(),
  backfillNewFields: backfillNewFields.optional(),
  refreshFormulas: refreshFormulas.optional(),
  partitionBy: partitionBy.optional(),
  sortBy: sortBy.optional(),
};

/** What happened to one object (the parent's result, and what it carries across continue-as-new). */
export interface ObjectOutcome {
  object: string;
  status: 'succeeded' | 'failed';
  result?: CommitSummary & { rows: number };
  error?: string;
  /**
   * The kind of failure (src/errors.ts: SALESFORCE_AUTH, UNKNOWN_OBJECT, ...; TIMEOUT when a step
   * only timed out; NOT_PUBLISHED for an object of an atomic sync that was extracted but not
   * published because another object failed).
   */
  code?: string;
  /** An atomic sync's object, extracted and waiting for the publish of all (carried across continue-as-new). */
  staged?: StagedObject;
}

// Written by the workflow itself: checked for its shape, not field by field.
const outcomeList = z.array(z.looseObject({ object: objectName, status: z.enum(['succeeded', 'failed']) }));
const done = z.custom<ObjectOutcome[]>((v) => outcomeList.safeParse(v, { jitless: true }).success, must(MUST.done));

const syncInputShape = {
  objects: z.array(objectName, must(MUST.objects)).min(1).optional(),
  readMode: readMode.optional(),
  /** The old name of readMode. */
  mode: readMode.optional(),
  reconcile: z.boolean(must(MUST.reconcile)).optional(),
  namespace: z.string(must(MUST.namespace)).regex(NAMESPACE_PATTERN).optional(),
  overrides: z.record(objectName, z.strictObject(overrideShape, must(MUST.override)), must(MUST.overrides)).optional(),
  backfillNewFields: backfillNewFields.optional(),
  partitionBy: partitionBy.optional(),
  sortBy: sortBy.optional(),
  concurrency: wholeNumber(MUST.concurrency, LIMITS.concurrency).optional(),
  heartbeatTimeout: heartbeatTimeout.optional(),
  retryTimeout: retryTimeout.optional(),
  maxHistoryEvents: wholeNumber(MUST.maxHistoryEvents, LIMITS.maxHistoryEvents).optional(),
  atomic: z.boolean(must(MUST.atomic)).optional(),
  done: done.optional(),
};

/** salesforceSync's input. Unknown keys are refused (a typo must not silently do nothing). */
export const salesforceSyncInputSchema = z.strictObject(syncInputShape, must(MUST.input)).superRefine(
  (input, ctx) => {
    conflictingNames(input, 'readMode', READ_MODES, [], ctx);
    // An override for an object the sync does not include does nothing: most likely a typo.
    const { overrides, objects = INPUT_DEFAULTS.objects, done: doneBefore = [] } = input;
    if (typeof overrides !== 'object' || overrides === null) return;
    for (const [object, override] of Object.entries(overrides)) {
      if (typeof override === 'object' && override !== null) conflictingNames(override, 'writeMode', WRITE_MODES, ['overrides', object], ctx);
    }
    // A bad list is reported on its own.
    if (!Array.isArray(objects) || objects.length === 0 || !Array.isArray(doneBefore)) return;
    const included = new Set<unknown>([...objects, ...doneBefore.map((d) => d?.object)]);
    for (const object of Object.keys(overrides)) {
      // Asked of one object in so many words, reconciling a table that is not merged is a mistake.
      const mode = overrides[object]?.writeMode ?? overrides[object]?.mode ?? defaultWriteMode(object);
      if (overrides[object]?.reconcile === true && mode !== 'merge' && WRITE_MODES.includes(mode)) {
        const why = mode === 'append' ? 'append keeps every row it ever read' : 'replace rewrites the whole table each sync';
        ctx.addIssue({
          code: 'custom',
          path: ['overrides', object, 'reconcile'],
          input: true,
          message: `only merge-mode objects reconcile, and ${object} is synced in ${mode} mode (${why})`,
        });
      }
      if (included.has(object) || !OBJECT_NAME.test(object)) continue;
      const which = input.objects ? `objects: ${objects.join(', ')}` : `the default objects: ${objects.join(', ')}`;
      ctx.addIssue({ code: 'custom', path: ['overrides', object], input: overrides[object], message: `names an object this sync does not include (${which})` });
    }
  },
  // Also when other keys are wrong: every problem is listed at once.
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
);

/** What salesforceSync accepts: the current names, and the old ones (OLD_NAMES). */
export type SalesforceSyncInput = z.input<typeof salesforceSyncInputSchema>;

/** An override for one object as the workflow reads it: its write mode under its current name only. */
export type ObjectOverride = Omit<NonNullable<SalesforceSyncInput['overrides']>[string], 'mode'>;

/** salesforceSync's input, checked and in the current names only (what the workflow reads). */
export type CheckedSyncInput = Omit<SalesforceSyncInput, 'mode' | 'overrides'> & { overrides?: Record<string, ObjectOverride> };

/** The input in the current names: an old name's value moves to its new name (they agree: checked). */
function currentNames(input: SalesforceSyncInput): CheckedSyncInput {
  const { mode, overrides, ...rest } = input;
  const checked: CheckedSyncInput = { ...rest, ...definedOnly({ readMode: rest.readMode ?? mode }) };
  if (overrides) {
    checked.overrides = Object.fromEntries(
      Object.entries(overrides).map(([object, { mode: writeMode, ...override }]) => [object, { ...override, ...definedOnly({ writeMode: override.writeMode ?? writeMode }) }]),
    );
  }
  return checked;
}

/** The keys whose value is set (a key left out stays left out). */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** syncObject's input, checked more lightly: the parent builds it from an input already checked. */
export const syncObjectInputSchema = z
  .object(
    {
      object: objectName,
      namespace: z.array(identifier, must(MUST.namespaceList)).min(1),
      writeMode: writeMode.optional(),
      /** The old name of writeMode (children started by an earlier version of the parent). */
      mode: writeMode.optional(),
      full: z.boolean(must(MUST.full)),
      reconcile: z.boolean(must(MUST.reconcile)).optional(),
      backfillNewFields: backfillNewFields.optional(),
      refreshFormulas: refreshFormulas.optional(),
      partitionBy: partitionBy.optional(),
      sortBy: sortBy.optional(),
      /** Which of partitionBy and sortBy are the sync's defaults, not this object's own: an object without their columns keeps its table's layout. */
      syncWideLayout: z.array(z.enum(['partitionBy', 'sortBy']), must(MUST.syncWideLayout)).optional(),
      heartbeatTimeout: heartbeatTimeout.optional(),
      retryTimeout: retryTimeout.optional(),
      atomic: z.boolean(must(MUST.atomic)).optional(),
    },
    must('an object such as {"object": "Account", "namespace": ["salesforce"], "full": false}'),
  )
  .superRefine((input, ctx) => conflictingNames(input, 'writeMode', WRITE_MODES, [], ctx));

/** What syncObject accepts: its write mode under the current name or the old one. */
export type SyncObjectInput = z.input<typeof syncObjectInputSchema>;

/** syncObject's input, checked and in the current names only (what the parent gives and the child reads). */
export type CheckedSyncObjectInput = Omit<SyncObjectInput, 'mode'>;

type Issue = z.core.$ZodIssue;

function pathText(path: PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? `${i ? '.' : ''}${String(k)}` : `[${JSON.stringify(String(k))}]`)).join('');
}

/** The keys the reference shows: not the old names (still read), not `done` (the workflow's own). */
const documented = <K extends string>(keys: K[]) => keys.filter((k): k is Exclude<K, 'mode'> => k !== 'mode');
const DOCUMENTED_KEYS = documented(Object.keys(syncInputShape) as (keyof typeof syncInputShape)[]);
const KEYS = DOCUMENTED_KEYS.filter((k) => k !== 'done');
const OVERRIDE_KEYS = documented(Object.keys(overrideShape) as (keyof typeof overrideShape)[]);

/** An unknown key's message: the key it is nearest to (an old name's current name), or the keys there are. */
function unknownKey(key: string, known: string[]): string {
  const names = [
    ...known.map((k) => [k, k]),
    ...Object.entries(OLD_NAMES)
      .filter(([current]) => known.includes(current))
      .map(([current, old]) => [old, current]),
  ];
  const near = names.find(([name]) => name!.toLowerCase() === key.toLowerCase()) ?? names.find(([name]) => editDistance(name!.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? `unknown key (did you mean ${near[1]}?)` : `unknown key (the keys are ${known.join(', ')})`;
}

/** Every problem as "<path>: <what is wrong>", in the order of the schema. */
function problems(issues: Issue[]): string[] {
  return issues.flatMap((issue) => {
    const at = (path: PropertyKey[], text: string) => (path.length ? `${pathText(path)}: ${text}` : text);
    if (issue.code === 'unrecognized_keys') {
      const known = issue.path.length === 0 ? KEYS : OVERRIDE_KEYS;
      return issue.keys.map((key) => at([...issue.path, key], unknownKey(key, known)));
    }
    // A bad key of a record: its own message, at the key.
    if (issue.code === 'invalid_key') return [at(issue.path, `key ${issue.issues[0]?.message ?? 'is not valid'}`)];
    return [at(issue.path, issue.message)];
  });
}

/** The problems of a salesforceSync input; empty when it is valid. */
export function syncInputProblems(input: unknown): string[] {
  const result = checkSyncInput(input);
  return 'problems' in result ? result.problems : [];
}

/** The problems of a syncObject input; empty when it is valid. */
export function syncObjectInputProblems(input: unknown): string[] {
  const result = checkSyncObjectInput(input);
  return 'problems' in result ? result.problems : [];
}

/** A salesforceSync input in the current names, or every problem that makes it invalid. */
export function checkSyncInput(input: unknown): { input: CheckedSyncInput } | { problems: string[] } {
  const result = salesforceSyncInputSchema.safeParse(input, { jitless: true });
  return result.success ? { input: currentNames(result.data) } : { problems: problems(result.error.issues) };
}

/** A syncObject input in the current names, or every problem that makes it invalid. */
export function checkSyncObjectInput(input: unknown): { input: CheckedSyncObjectInput } | { problems: string[] } {
  const result = syncObjectInputSchema.safeParse(input, { jitless: true });
  if (!result.success) return { problems: problems(result.error.issues) };
  const { mode, ...checked } = result.data;
  return { input: { ...checked, ...definedOnly({ writeMode: checked.writeMode ?? mode }) } };
}

/** "Invalid sync input: a: ...; b: ...". */
export function invalidInputMessage(problemList: string[], what = 'sync input'): string {
  return `Invalid ${what}: ${problemList.join('; ')}`;
}

/** The input checked, for scripts: an Error with the workflow's wording when it is not valid. */
export function parseSyncInput(input: unknown): SalesforceSyncInput {
  const found = syncInputProblems(input);
  if (found.length > 0) throw new Error(invalidInputMessage(found));
  return input as SalesforceSyncInput;
}

/** One key of the input, as the reference shows it. */
export interface InputKeyReference {
  key: string;
  /** What the value must be (the error messages say the same). */
  type: string;
  default: string;
  meaning: string;
  /** JSON, or '' when there is no example to give. */
  example: string;
}

const DOCS: Record<(typeof DOCUMENTED_KEYS)[number], Omit<InputKeyReference, 'key' | 'type'> & { type?: string }> = {
  objects: {
    default: `the worker's SALESFORCE_RESOURCES, else ${INPUT_DEFAULTS.objects.join(', ')}`,
    meaning: 'the Salesforce objects to sync (API names), one child workflow each',
    example: '["Account","Invoice__c"]',
  },
  readMode: {
    default: `${INPUT_DEFAULTS.readMode} (full, replacing each table, when the worker's WRITE_DISPOSITION is force_replace)`,
    meaning: `how the sync reads Salesforce: incremental reads what changed since the cursor stored in each table; full reads everything, ignoring stored cursors. Its old name, \`${OLD_NAMES.readMode}\`, is still accepted`,
    example: '"full"',
  },
  reconcile: {
    default: 'false',
    meaning:
      "also remove rows Salesforce no longer has by comparing all Ids of each merge-mode object with its table (rows hidden from the integration user, deletes past Salesforce's 15-day delete log, objects it does not replicate; incremental syncs read the rest from the log, and reconcile on their own when it cannot answer); replace and append objects sync as usual",
    example: 'true',
  },
  namespace: {
    default: `the worker's SYNC_NAMESPACE (or ICEBERG_NAMESPACE), else ${INPUT_DEFAULTS.namespace}`,
    meaning: 'the Iceberg namespace (DuckDB schema) the tables go to',
    example: '"crm"',
  },
  overrides: {
    type: `${MUST.overrides}, naming objects the sync includes`,
    default: `each object's own: replace for ${REPLACE_OBJECTS.join(', ')}; merge for the others`,
    meaning: `per-object options: writeMode, how the sync writes the object's table: replace (the table becomes what was read: an Iceberg overwrite snapshot), merge (upsert and delete by Id) or append (its old name, \`${OLD_NAMES.writeMode}\`, is still accepted); reconcile (merge objects only) and backfillNewFields (as below, for this object; they win over the sync's own); refreshFormulas: true re-reads every row of a merge object so formula fields are current (their changes do not move SystemModstamp; a full read of the object); partitionBy and sortBy (as below, for this object: a column it lacks, or a transform its type does not take, fails the object before anything is read; [] asks for an unpartitioned or unsorted table)`,
    example: '{"Account":{"writeMode":"replace"},"Opportunity":{"refreshFormulas":true,"partitionBy":["year(CloseDate)"],"sortBy":["AccountId"]}}',
  },
  backfillNewFields: {
    default: 'true',
    meaning:
      "when a sync adds columns to a merge table that has rows, it re-reads every row of the object so old rows get the new fields' values (Salesforce fills them on old rows without moving SystemModstamp) in the same snapshot; false skips that full read (old rows stay null until they change)",
    example: 'false',
  },
  partitionBy: {
    default: 'none: a new table is unpartitioned, an existing one keeps its partition spec (also one another engine gave it)',
    meaning:
      "how each object's table is partitioned, by Salesforce field names (CreatedDate) or column names (created_date): identity, year, month, day, hour, bucket(N, column), truncate(W, column). A new table is created with the spec; an existing table whose spec differs gets a partition spec evolution (files already written keep their spec; nothing is rewritten). Applies to every object that has the named columns (of fitting types); another object keeps its table's spec, and its result says why (overrides.<Object>.partitionBy wins)",
    example: '["month(CreatedDate)"]',
  },
  sortBy: {
    default: 'none: a new table is unsorted, an existing one keeps its sort order',
    meaning:
      "the sort order of each object's table (rows are sorted so within each data file), by field or column names, ascending unless followed by desc. Applies like partitionBy: to the objects that have the columns (overrides.<Object>.sortBy wins)",
    example: '["AccountId", "CreatedDate desc"]',
  },
  concurrency: { default: String(INPUT_DEFAULTS.concurrency), meaning: 'objects synced at the same time', example: '8' },
  heartbeatTimeout: {
    default: `"${INPUT_DEFAULTS.heartbeatTimeout}"`,
    meaning: 'how long an activity may go without a heartbeat before it is retried (on another worker if its worker died)',
    example: '"20 seconds"',
  },
  retryTimeout: {
    default: `"${INPUT_DEFAULTS.retryTimeout}"`,
    meaning: 'how long a step may keep failing with faults that can heal (5xx, limits, dropped connections) before its object fails; retries come at most 30 s apart',
    example: '"2 hours"',
  },
  maxHistoryEvents: { default: String(INPUT_DEFAULTS.maxHistoryEvents), meaning: 'the sync continues as new once its history holds this many events', example: '5000' },
  atomic: {
    default: 'false',
    meaning:
      "publish all objects of the sync in one catalog transaction (POST /v1/{prefix}/transactions/commit) after every one was extracted, so readers never see one object's new rows beside another's old ones; if any object fails, none is published. The catalog must serve that route (Nessie, Lakekeeper; Apache's reference server serves it without guaranteeing atomicity): one that does not is refused before anything is read",
    example: 'true',
  },
  done: { default: 'none', meaning: 'set by the workflow itself when it continues as new; leave it out', example: '' },
};

/** Every key of salesforceSync's input: what it must be, its default, meaning and an example. */
export function describeInput(): InputKeyReference[] {
  return DOCUMENTED_KEYS.map((key) => {
    const { type, ...doc } = DOCS[key];
    return { key, type: type ?? MUST[key], ...doc };
  });
}

/** The reference as `npm run env -- input` prints it. */
export function inputReferenceText(): string {
  const lines = ["salesforceSync input (temporal workflow start --input '{...}'; npm run sync and npm run schedule build it from their options)"];
  for (const k of describeInput()) {
    lines.push(`${k.key}\n    ${k.meaning}; default ${k.default}\n    must be ${k.type}${k.example ? `\n    e.g. "${k.key}": ${k.example}` : ''}`);
  }
  return lines.join('\n');
}

/** The reference as the README's table (a unit test keeps the README equal to it). */
export function inputReferenceMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| key | must be | default | meaning | example |',
    '|---|---|---|---|---|',
    ...describeInput().map((k) => `| \`${k.key}\` | ${cell(k.type)} | ${cell(k.default)} | ${cell(k.meaning)} | ${k.example ? `\`${cell(k.example)}\`` : ''} |`),
  ].join('\n');
}
