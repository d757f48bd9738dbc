import fs from 'node:fs';
import path from 'node:path';
import { msToNumber } from '@temporalio/common/lib/time';
import { describe, expect, it } from 'vitest';
import { syncInput } from '../../scripts/lib/sync-input';
import {
  checkSyncInput,
  checkSyncObjectInput,
  describeInput,
  durationMs,
  inputReferenceMarkdown,
  invalidInputMessage,
  parseSyncInput,
  syncInputProblems,
  syncObjectInputProblems,
} from '../../workflows/input';

const root = path.join(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** What the workflow fails with (and the scripts refuse with) for an input; '' when it is valid. */
const messageFor = (input: unknown) => {
  const problems = syncInputProblems(input);
  return problems.length ? invalidInputMessage(problems) : '';
};

const NAME = 'must be a Salesforce object name: letters, digits and underscores, starting with a letter';
const NAMESPACE = 'must be an Iceberg namespace: identifiers (letters, digits and underscores, not starting with a digit) joined by dots';
const HEARTBEAT = 'must be a duration from 2 seconds to 30 minutes, such as "30 seconds", "1m" or a number of milliseconds';
const INPUT = 'must be an object of sync options such as {"objects": ["Account"]}';

describe('the salesforceSync input schema', () => {
  // Each bad input observed, and more: the whole message the sync fails with.
  const bad: [what: string, input: unknown, message: string][] = [
    ['a heartbeat timeout that is no duration', { heartbeatTimeout: 'banana' }, `Invalid sync input: heartbeatTimeout: ${HEARTBEAT} (it is "banana")`],
    ["a heartbeat timeout too short for the activities' 1 s heartbeats", { heartbeatTimeout: '1s' }, `Invalid sync input: heartbeatTimeout: ${HEARTBEAT} (it is "1s")`],
    ['a negative heartbeat timeout', { heartbeatTimeout: '-5 seconds' }, `Invalid sync input: heartbeatTimeout: ${HEARTBEAT} (it is "-5 seconds")`],
    ['a heartbeat timeout beyond 30 minutes', { heartbeatTimeout: 1_800_001 }, `Invalid sync input: heartbeatTimeout: ${HEARTBEAT} (it is 1800001)`],
    ['a heartbeat timeout that is neither string nor number', { heartbeatTimeout: true }, `Invalid sync input: heartbeatTimeout: ${HEARTBEAT} (it is true)`],
    ['a concurrency that is a string', { concurrency: 'x' }, 'Invalid sync input: concurrency: must be a whole number from 1 to 100 (it is "x")'],
    ['a concurrency of 0', { concurrency: 0 }, 'Invalid sync input: concurrency: must be a whole number from 1 to 100 (it is 0)'],
    ['a fractional concurrency', { concurrency: 1.5 }, 'Invalid sync input: concurrency: must be a whole number from 1 to 100 (it is 1.5)'],
    ['a concurrency above 100', { concurrency: 101 }, 'Invalid sync input: concurrency: must be a whole number from 1 to 100 (it is 101)'],
    ['maxHistoryEvents 0', { maxHistoryEvents: 0 }, 'Invalid sync input: maxHistoryEvents: must be a whole number from 10 to 50000 (it is 0)'],
    [
      "maxHistoryEvents beyond Temporal's history limit",
      { maxHistoryEvents: 60_000 },
      'Invalid sync input: maxHistoryEvents: must be a whole number from 10 to 50000 (it is 60000)',
    ],
    ['an empty object list', { objects: [] }, 'Invalid sync input: objects: must be a non-empty list of Salesforce object names (it is [])'],
    ['objects that is an object', { objects: { Account: true } }, 'Invalid sync input: objects: must be a non-empty list of Salesforce object names (it is {"Account":true})'],
    ['objects that is a string', { objects: 'Account' }, 'Invalid sync input: objects: must be a non-empty list of Salesforce object names (it is "Account")'],
    [
      'object names that are not API names',
      { objects: ['Account', 'bad name', '1Thing', 'a/b', 42] },
      `Invalid sync input: objects[1]: ${NAME} (it is "bad name"); objects[2]: ${NAME} (it is "1Thing"); objects[3]: ${NAME} (it is "a/b"); objects[4]: ${NAME} (it is 42)`,
    ],
    ['an unknown read mode', { readMode: 'banana' }, 'Invalid sync input: readMode: must be incremental or full (it is "banana")'],
    ['an unknown read mode under its old name', { mode: 'banana' }, 'Invalid sync input: mode: must be incremental or full (it is "banana")'],
    ['a read mode given as a write mode', { readMode: 'replace' }, 'Invalid sync input: readMode: must be incremental or full (it is "replace")'],
    [
      'an override write mode "upsert"',
      { overrides: { Account: { writeMode: 'upsert' } } },
      'Invalid sync input: overrides.Account.writeMode: must be replace, merge or append (it is "upsert")',
    ],
    [
      'an override write mode "upsert" under its old name',
      { overrides: { Account: { mode: 'upsert' } } },
      'Invalid sync input: overrides.Account.mode: must be replace, merge or append (it is "upsert")',
    ],
    [
      'a write mode given as a read mode',
      { overrides: { Account: { writeMode: 'full' } } },
      'Invalid sync input: overrides.Account.writeMode: must be replace, merge or append (it is "full")',
    ],
    [
      'a read mode and its old name that disagree',
      { mode: 'full', readMode: 'incremental' },
      'Invalid sync input: mode: is the old name of readMode, and the two differ (mode "full", readMode "incremental"): give readMode only',
    ],
    [
      'a write mode and its old name that disagree',
      { overrides: { Account: { mode: 'replace', writeMode: 'merge' } } },
      'Invalid sync input: overrides.Account.mode: is the old name of writeMode, and the two differ (mode "replace", writeMode "merge"): give writeMode only',
    ],
    [
      'an old name that is wrong beside a new name that is right: the wrong value alone is named',
      { mode: 'fast', readMode: 'full' },
      'Invalid sync input: mode: must be incremental or full (it is "fast")',
    ],
    [
      'an override that is no object',
      { overrides: { Account: 'replace' } },
      'Invalid sync input: overrides.Account: must be an object such as {"writeMode": "replace"} or {"refreshFormulas": true} (it is "replace")',
    ],
    [
      'overrides that is a list',
      { overrides: ['Account'] },
      'Invalid sync input: overrides: must be an object from Salesforce object names to {"writeMode": "replace" | "merge" | "append", "reconcile": true | false, "backfillNewFields": true | false, "refreshFormulas": true | false, "partitionBy": [...], "sortBy": [...]} (it is ["Account"])',
    ],
    [
      'an override key that is no object name',
      { objects: ['Account'], overrides: { 'Account;': { writeMode: 'replace' } } },
      `Invalid sync input: overrides["Account;"]: key ${NAME} (it is "Account;")`,
    ],
    ['a typo of writeMode', { overrides: { Account: { writeMdoe: 'replace' } } }, 'Invalid sync input: overrides.Account.writeMdoe: unknown key (did you mean writeMode?)'],
    [
      'a typo of the old name of writeMode: the new name is offered',
      { overrides: { Account: { mdoe: 'replace' } } },
      'Invalid sync input: overrides.Account.mdoe: unknown key (did you mean writeMode?)',
    ],
    ['a typo of the old name of readMode: the new name is offered', { mdoe: 'full' }, 'Invalid sync input: mdoe: unknown key (did you mean readMode?)'],
    [
      'an override for an object not synced',
      { objects: ['Account', 'Contact'], overrides: { Acount: { writeMode: 'replace' } } },
      'Invalid sync input: overrides.Acount: names an object this sync does not include (objects: Account, Contact)',
    ],
    [
      'an override for an object not among the defaults',
      { overrides: { Lead: { writeMode: 'append' } } },
      'Invalid sync input: overrides.Lead: names an object this sync does not include (the default objects: Account, Contact, Opportunity, OpportunityContactRole)',
    ],
    ['a typo of a key', { objcts: ['Account'] }, 'Invalid sync input: objcts: unknown key (did you mean objects?)'],
    ['a key in the wrong case', { HeartbeatTimeout: '5s' }, 'Invalid sync input: HeartbeatTimeout: unknown key (did you mean heartbeatTimeout?)'],
    [
      'a retry timeout that is not a duration',
      { retryTimeout: 'soon' },
      'Invalid sync input: retryTimeout: must be a duration from 10 seconds to 7 days, such as "30 minutes", "2h" or a number of milliseconds (it is "soon")',
    ],
    [
      'an unknown key',
      { table: 'account' },
      'Invalid sync input: table: unknown key (the keys are objects, readMode, reconcile, namespace, overrides, backfillNewFields, partitionBy, sortBy, concurrency, heartbeatTimeout, retryTimeout, maxHistoryEvents, atomic)',
    ],
    ['reconcile that is not a boolean', { reconcile: 'yes' }, 'Invalid sync input: reconcile: must be true or false (it is "yes")'],
    [
      'an override reconcile that is not a boolean',
      { overrides: { Account: { reconcile: 1 } } },
      'Invalid sync input: overrides.Account.reconcile: must be true or false (it is 1)',
    ],
    [
      'reconciling an object asked to append',
      { objects: ['Account'], overrides: { Account: { writeMode: 'append', reconcile: true } } },
      'Invalid sync input: overrides.Account.reconcile: only merge-mode objects reconcile, and Account is synced in append mode (append keeps every row it ever read)',
    ],
    [
      'reconciling an object asked to append under the old name',
      { objects: ['Account'], overrides: { Account: { mode: 'append', reconcile: true } } },
      'Invalid sync input: overrides.Account.reconcile: only merge-mode objects reconcile, and Account is synced in append mode (append keeps every row it ever read)',
    ],
    [
      'reconciling an object replaced by default',
      { objects: ['Contact'], overrides: { Contact: { reconcile: true } } },
      'Invalid sync input: overrides.Contact.reconcile: only merge-mode objects reconcile, and Contact is synced in replace mode (replace rewrites the whole table each sync)',
    ],
    ['a typo of reconcile in an override', { overrides: { Account: { reconcil: true } } }, 'Invalid sync input: overrides.Account.reconcil: unknown key (did you mean reconcile?)'],
    ['backfillNewFields that is not a boolean', { backfillNewFields: 'no' }, 'Invalid sync input: backfillNewFields: must be true or false (it is "no")'],
    [
      'refreshFormulas that is not a boolean',
      { overrides: { Account: { refreshFormulas: 'nightly' } } },
      'Invalid sync input: overrides.Account.refreshFormulas: must be true or false (it is "nightly")',
    ],
    [
      'refreshFormulas for the whole sync (it is per object)',
      { refreshFormulas: true },
      'Invalid sync input: refreshFormulas: unknown key (the keys are objects, readMode, reconcile, namespace, overrides, backfillNewFields, partitionBy, sortBy, concurrency, heartbeatTimeout, retryTimeout, maxHistoryEvents, atomic)',
    ],
    [
      'a typo of refreshFormulas in an override',
      { overrides: { Account: { refreshFormula: true } } },
      'Invalid sync input: overrides.Account.refreshFormula: unknown key (did you mean refreshFormulas?)',
    ],
    ['a whole input that is a string', 'Account', `Invalid sync input: ${INPUT} (it is "Account")`],
    ['a whole input that is a list', ['Account'], `Invalid sync input: ${INPUT} (it is ["Account"])`],
    ['a whole input that is null', null, `Invalid sync input: ${INPUT} (it is null)`],
    ['namespace a/b', { namespace: 'a/b' }, `Invalid sync input: namespace: ${NAMESPACE} (it is "a/b")`],
    ['namespace "bi c12;*"', { namespace: 'bi c12;*' }, `Invalid sync input: namespace: ${NAMESPACE} (it is "bi c12;*")`],
    ['namespace ../x', { namespace: '../x' }, `Invalid sync input: namespace: ${NAMESPACE} (it is "../x")`],
    ['an empty namespace', { namespace: '' }, `Invalid sync input: namespace: ${NAMESPACE} (it is "")`],
    ['a namespace with an empty level', { namespace: 'crm..raw' }, `Invalid sync input: namespace: ${NAMESPACE} (it is "crm..raw")`],
    ['a namespace that is a list', { namespace: ['crm'] }, `Invalid sync input: namespace: ${NAMESPACE} (it is ["crm"])`],
    [
      'a done list that is not one',
      { done: 'Account' },
      'Invalid sync input: done: must be the list of objects already done that the workflow carries across continue-as-new (it is "Account")',
    ],
    ['a long value, shown cut short', { readMode: 'x'.repeat(100) }, `Invalid sync input: readMode: must be incremental or full (it is "${'x'.repeat(38)}…)`],
    [
      'several problems: every one listed, in the order of the keys',
      { objcts: ['Account'], objects: [], readMode: 'banana', heartbeatTimeout: 'banana', concurrency: 'x', namespace: '../x', overrides: { Account: { writeMode: 'upsert' } } },
      'Invalid sync input: objects: must be a non-empty list of Salesforce object names (it is []); readMode: must be incremental or full (it is "banana"); ' +
        `namespace: ${NAMESPACE} (it is "../x"); overrides.Account.writeMode: must be replace, merge or append (it is "upsert"); concurrency: must be a whole number from 1 to 100 (it is "x"); ` +
        `heartbeatTimeout: ${HEARTBEAT} (it is "banana"); objcts: unknown key (did you mean objects?)`,
    ],
    [
      'an override not synced, beside another problem',
      { objects: ['Account'], readMode: 'fast', overrides: { Contact: { writeMode: 'replace' } } },
      'Invalid sync input: readMode: must be incremental or full (it is "fast"); overrides.Contact: names an object this sync does not include (objects: Account)',
    ],
    [
      'an override not synced, beside a disagreement of names',
      { objects: ['Account'], mode: 'full', readMode: 'incremental', overrides: { Contact: { writeMode: 'replace' } } },
      'Invalid sync input: mode: is the old name of readMode, and the two differ (mode "full", readMode "incremental"): give readMode only; ' +
        'overrides.Contact: names an object this sync does not include (objects: Account)',
    ],
  ];

  it.each(bad)('refuses %s', (_, input, message) => {
    expect(messageFor(input)).toBe(message);
    // The scripts refuse it in the same words.
    expect(() => parseSyncInput(input)).toThrow(message);
  });

  const good: [what: string, input: unknown][] = [
    ['nothing (the defaults)', {}],
    [
      'everything',
      {
        objects: ['Account', 'Invoice__c', 'ns__Thing__c'],
        readMode: 'full',
        namespace: 'crm.raw_2',
        overrides: { Account: { writeMode: 'replace' }, Invoice__c: {} },
        concurrency: 100,
        heartbeatTimeout: '30 minutes',
        maxHistoryEvents: 50_000,
      },
    ],
    ['the lowest bounds', { concurrency: 1, heartbeatTimeout: '2 seconds', maxHistoryEvents: 10 }],
    ['a heartbeat timeout in milliseconds', { heartbeatTimeout: 20_000 }],
    ['ms-format durations', { heartbeatTimeout: '1m' }],
    ['a fractional ms-format duration', { heartbeatTimeout: '2.5 minutes' }],
    ['a namespace starting with an underscore', { namespace: '_staging' }],
    ['an object listed twice', { objects: ['Account', 'Account'] }],
    ['a reconciling sync (its replace objects are synced as usual)', { objects: ['Account', 'Contact'], reconcile: true }],
    [
      'reconciling one object, or all but one',
      {
        objects: ['Account', 'Opportunity', 'Contact'],
        overrides: { Account: { reconcile: true }, Opportunity: { reconcile: false }, Contact: { writeMode: 'merge', reconcile: true } },
      },
    ],
    ['reconciling an object merged under the old name', { objects: ['Contact'], overrides: { Contact: { mode: 'merge', reconcile: true } } }],
    ['not reconciling an appended object', { objects: ['Account'], reconcile: true, overrides: { Account: { writeMode: 'append', reconcile: false } } }],
    [
      're-read options: no backfill for the sync, but for Account; formulas refreshed for Opportunity',
      { backfillNewFields: false, overrides: { Account: { backfillNewFields: true }, Opportunity: { writeMode: 'merge', refreshFormulas: true } } },
    ],
    // Schedules keep the inputs they were created with: the old names are read for good.
    ['the old names (mode for readMode and for writeMode)', { objects: ['Account'], mode: 'full', overrides: { Account: { mode: 'append' } } }],
    ['an old name beside its new name, when they agree', { mode: 'full', readMode: 'full', overrides: { Account: { mode: 'append', writeMode: 'append' } } }],
    // What the workflow carries across continue-as-new: overrides of objects already done stay valid.
    [
      'a continued run carrying what is done',
      {
        objects: ['Contact'],
        overrides: { Account: { writeMode: 'replace' } },
        maxHistoryEvents: 10,
        done: [
          { object: 'Account', status: 'succeeded', result: { snapshotId: '123', rows: 3, deleted: 0, alreadyCommitted: false, cursor: '2024-01-01T00:00:00.000Z' } },
          { object: 'Lead', status: 'failed', error: 'Lead is not readable' },
        ],
      },
    ],
    ['what the integration tests start', { objects: ['Account'], namespace: 'crash_mwu2s0ls_qrtqfx', heartbeatTimeout: '5 seconds' }],
    ['what npm run schedule created before (commands test)', { objects: ['Account'], namespace: 'commands_x', mode: 'incremental', overrides: { Account: { mode: 'replace' } } }],
  ];

  it.each(good)('accepts %s', (_, input) => {
    expect(syncInputProblems(input)).toEqual([]);
  });

  it('gives the workflow the input in the current names only, whichever names it came in', () => {
    const current = { objects: ['Account', 'Contact'], readMode: 'full', overrides: { Account: { writeMode: 'append', reconcile: false }, Contact: { refreshFormulas: true } } };
    const inputs = [
      current,
      { objects: ['Account', 'Contact'], mode: 'full', overrides: { Account: { mode: 'append', reconcile: false }, Contact: { refreshFormulas: true } } },
      {
        objects: ['Account', 'Contact'],
        mode: 'full',
        readMode: 'full',
        overrides: { Account: { mode: 'append', writeMode: 'append', reconcile: false }, Contact: { refreshFormulas: true } },
      },
    ];
    for (const input of inputs) expect(checkSyncInput(input)).toEqual({ input: current });
    // Nothing given, nothing added: the defaults stay the workflow's.
    expect(checkSyncInput({})).toEqual({ input: {} });
    expect(checkSyncInput({ mode: 'fast' })).toEqual({ problems: ['mode: must be incremental or full (it is "fast")'] });
    // syncObject: the write mode under either name.
    const child = { object: 'Account', namespace: ['crm'], full: false };
    expect(checkSyncObjectInput({ ...child, mode: 'append' })).toEqual({ input: { ...child, writeMode: 'append' } });
    expect(checkSyncObjectInput({ ...child, writeMode: 'append' })).toEqual({ input: { ...child, writeMode: 'append' } });
    expect(checkSyncObjectInput(child)).toEqual({ input: child });
    expect(checkSyncObjectInput({ ...child, mode: 'append', writeMode: 'merge' })).toEqual({
      problems: ['mode: is the old name of writeMode, and the two differ (mode "append", writeMode "merge"): give writeMode only'],
    });
  });

  it('accepts the inputs of the kept histories (they must still replay)', () => {
    const dir = path.join(root, 'test', 'histories');
    const inputs = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((file) => {
        const started = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes;
        const input = JSON.parse(Buffer.from(started.input.payloads[0].data, 'base64').toString('utf8'));
        return [started.workflowType.name as string, input] as const;
      })
      // The maintenance workflows' kept inputs are checked by maintenance.test.ts.
      .filter(([type]) => !type.startsWith('maintain'));
    expect(new Set(inputs.map(([type]) => type))).toEqual(new Set(['salesforceSync', 'syncObject']));
    for (const [type, input] of inputs) {
      expect([type, type === 'salesforceSync' ? syncInputProblems(input) : syncObjectInputProblems(input)]).toEqual([type, []]);
    }
  });

  it('reads durations exactly as Temporal does', () => {
    for (const d of ['5 seconds', '1m', '2.5 minutes', '1500', '1h', 2_000]) expect(durationMs(d)).toBe(msToNumber(d as never));
    for (const d of ['banana', '', ' 5s', '5 parsecs', null, {}]) expect(durationMs(d)).toBeUndefined();
    // Temporal's own parser throws for these: the workflow task would fail (and be retried forever).
    expect(() => msToNumber('banana' as never)).toThrow();
  });

  it('refuses a bad syncObject input, more lightly (unknown keys pass)', () => {
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['salesforce'], full: false, extra: 1 })).toEqual([]);
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['crm', 'raw'], writeMode: 'merge', full: true, heartbeatTimeout: '5 seconds' })).toEqual([]);
    // What a parent of an earlier version started its children with.
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['crm', 'raw'], mode: 'merge', full: true, heartbeatTimeout: '5 seconds' })).toEqual([]);
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['crm'], full: false, reconcile: true })).toEqual([]);
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['crm'], full: false, reconcile: 'yes' })).toEqual(['reconcile: must be true or false (it is "yes")']);
    expect(
      invalidInputMessage(syncObjectInputProblems({ object: 'a b', namespace: ['../x'], writeMode: 'upsert', full: 'no', heartbeatTimeout: 'banana' }), 'syncObject input'),
    ).toBe(
      `Invalid syncObject input: object: ${NAME} (it is "a b"); namespace[0]: must be an identifier: letters, digits and underscores, not starting with a digit (it is "../x"); ` +
        `writeMode: must be replace, merge or append (it is "upsert"); full: must be true or false (it is "no"); heartbeatTimeout: ${HEARTBEAT} (it is "banana")`,
    );
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['crm'], full: false, mode: 'upsert' })).toEqual(['mode: must be replace, merge or append (it is "upsert")']);
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['salesforce'], full: false, backfillNewFields: false, refreshFormulas: true })).toEqual([]);
    expect(syncObjectInputProblems({ object: 'Account', namespace: ['salesforce'], full: false, refreshFormulas: 'yes' })).toEqual([
      'refreshFormulas: must be true or false (it is "yes")',
    ]);
    expect(syncObjectInputProblems({ namespace: [], full: false })).toEqual([`object: ${NAME} (it is missing)`, 'namespace: must be a non-empty list of identifiers (it is [])']);
  });
});

describe('the input npm run sync and npm run schedule build', () => {
  const opts = { namespace: 'salesforce' };

  it('is built from the options, through the schema, in the current names', () => {
    expect(syncInput([], opts)).toEqual({ namespace: 'salesforce', readMode: 'incremental' });
    expect(syncInput(['Account', 'Contact'], { namespace: 'crm', full: true, writeMode: ['Account=replace', 'Contact=append'] })).toEqual({
      objects: ['Account', 'Contact'],
      namespace: 'crm',
      readMode: 'full',
      overrides: { Account: { writeMode: 'replace' }, Contact: { writeMode: 'append' } },
    });
    // --mode, the old name of --write-mode, still works (alone or beside it).
    expect(syncInput(['Account', 'Contact'], { namespace: 'crm', full: true, mode: ['Account=replace'], writeMode: ['Contact=append'] })).toEqual({
      objects: ['Account', 'Contact'],
      namespace: 'crm',
      readMode: 'full',
      overrides: { Account: { writeMode: 'replace' }, Contact: { writeMode: 'append' } },
    });
    expect(syncInput(['Account'], { ...opts, reconcile: true })).toEqual({ objects: ['Account'], namespace: 'salesforce', readMode: 'incremental', reconcile: true });
    // A nightly formula refresh of Account; no backfill of new columns for the sync.
    expect(syncInput(['Account', 'Contact'], { ...opts, writeMode: ['Contact=merge'], refreshFormulas: ['Account'], backfillNewFields: false })).toEqual({
      objects: ['Account', 'Contact'],
      namespace: 'salesforce',
      readMode: 'incremental',
      overrides: { Contact: { writeMode: 'merge' }, Account: { refreshFormulas: true } },
      backfillNewFields: false,
    });
    // partitioned tables: --partition-by and --sort-by, an object's own (Object=...) or every object's.
    expect(
      syncInput(['Task', 'Event'], {
        ...opts,
        partitionBy: ['month(CreatedDate)', 'Task=bucket(16, AccountId)', 'Task=day(ActivityDate)'],
        sortBy: ['AccountId', 'Event=StartDateTime desc'],
      }),
    ).toEqual({
      objects: ['Task', 'Event'],
      namespace: 'salesforce',
      readMode: 'incremental',
      overrides: { Task: { partitionBy: ['bucket(16, AccountId)', 'day(ActivityDate)'] }, Event: { sortBy: ['StartDateTime desc'] } },
      partitionBy: ['month(CreatedDate)'],
      sortBy: ['AccountId'],
    });
    expect(() => syncInput(['Task'], { ...opts, partitionBy: ['Task=month(CreatedDate'] })).toThrow(
      /^Invalid sync input: overrides\.Task\.partitionBy: partition field "month\(CreatedDate"/,
    );
    expect(() => syncInput(['Account'], { ...opts, refreshFormulas: ['Contact'] })).toThrow(
      'Invalid sync input: overrides.Contact: names an object this sync does not include (objects: Account)',
    );
  });

  it("refuses a bad --write-mode, object name or namespace before anything starts, in the workflow's words", () => {
    expect(() => syncInput(['Account'], { ...opts, writeMode: ['Account=upsert'] })).toThrow(
      'Invalid sync input: overrides.Account.writeMode: must be replace, merge or append (it is "upsert")',
    );
    expect(() => syncInput(['Account'], { ...opts, mode: ['Account=upsert'] })).toThrow(
      'Invalid sync input: overrides.Account.writeMode: must be replace, merge or append (it is "upsert")',
    );
    expect(() => syncInput(['Account'], { ...opts, writeMode: ['Acount=replace'] })).toThrow(
      'Invalid sync input: overrides.Acount: names an object this sync does not include (objects: Account)',
    );
    expect(() => syncInput(['Account', 'Opportunity Line'], opts)).toThrow(`Invalid sync input: objects[1]: ${NAME} (it is "Opportunity Line")`);
    expect(() => syncInput([], { namespace: '../x' })).toThrow(`Invalid sync input: namespace: ${NAMESPACE} (it is "../x")`);
    expect(() => syncInput([], { ...opts, writeMode: ['replace'] })).toThrow('--write-mode replace: expected Object=replace|merge|append');
    expect(() => syncInput([], { ...opts, mode: ['=replace'] })).toThrow('--mode =replace: expected Object=replace|merge|append');
    expect(() => syncInput(['Account'], { ...opts, writeMode: ['Account=merge'], mode: ['Account=replace'] })).toThrow(
      '--mode Account=replace: Account is given two write modes (merge and replace)',
    );
  });
});

describe('the input reference', () => {
  it('documents every key, each with an example the schema accepts', () => {
    const keys = describeInput().map((k) => k.key);
    expect(keys).toEqual([
      'objects',
      'readMode',
      'reconcile',
      'namespace',
      'overrides',
      'backfillNewFields',
      'partitionBy',
      'sortBy',
      'concurrency',
      'heartbeatTimeout',
      'retryTimeout',
      'maxHistoryEvents',
      'atomic',
      'done',
    ]);
    for (const k of describeInput()) {
      expect(k.type && k.default && k.meaning, k.key).toBeTruthy();
      if (k.key === 'done') continue; // written by the workflow, no example to give
      expect([k.key, syncInputProblems({ [k.key]: JSON.parse(k.example) })]).toEqual([k.key, []]);
    }
    // The documented key set is the schema's: an undocumented key would be refused as unknown.
    expect(syncInputProblems(Object.fromEntries(keys.map((k) => [k, undefined])))).toEqual([]);
    expect(syncInputProblems({ extra: 1 })).toHaveLength(1);
  });

  it("is the README's table, as `npm run env -- input --markdown` prints it", () => {
    const table = /<!-- input-reference[^\n]*-->\n([\s\S]*?)\n<!-- \/input-reference -->/.exec(readme)?.[1];
    expect(table).toBe(inputReferenceMarkdown());
  });

  it('accepts every input the README shows (its temporal lines and snippets)', () => {
    // The maintenance workflows' inputs (after `--type maintainTable`) are checked by maintenance.test.ts.
    const inputs = [...readme.matchAll(/--input '([^']*)'/g)].filter((m) => !readme.slice(Math.max(0, m.index - 200), m.index).includes('--type maintain')).map((m) => m[1]!);
    expect(inputs.length).toBeGreaterThanOrEqual(3);
    for (const json of inputs) expect([json, syncInputProblems(JSON.parse(json))]).toEqual([json, []]);
    const snippets = [...readme.matchAll(/`("heartbeatTimeout": [^`]*)`/g)].map((m) => m[1]!);
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    for (const snippet of snippets) expect([snippet, syncInputProblems(JSON.parse(`{${snippet}}`))]).toEqual([snippet, []]);
  });
});

describe('partitioned tables: partitionBy and sortBy in the input', () => {
  it('are taken per object and for the whole sync, with every transform and an optional desc', () => {
    const input = {
      objects: ['Task', 'Event'],
      partitionBy: ['month(CreatedDate)'],
      sortBy: ['AccountId', 'CreatedDate desc'],
      overrides: {
        Task: { partitionBy: ['year(ActivityDate)', 'bucket(16, AccountId)', 'truncate(4, Subject)', 'Status', 'hour(CreatedDate)', 'day(created_date)'] },
        Event: { partitionBy: [], sortBy: ['StartDateTime ASC'] },
      },
    };
    expect(messageFor(input)).toBe('');
    expect(checkSyncInput(input)).toEqual({ input });
  });

  it('refuse bad syntax before anything starts, every problem at its key', () => {
    expect(
      messageFor({
        objects: ['Task'],
        partitionBy: ['month(CreatedDate', 'week(CreatedDate)'],
        sortBy: ['CreatedDate downwards', 'AccountId', 'accountid desc'],
        overrides: { Task: { partitionBy: ['bucket(CreatedDate)', 'bucket(0, Id)', 'month(CreatedDate)', 'month(CreatedDate)'], sortBy: 'CreatedDate' } },
      }),
    ).toBe(
      'Invalid sync input: ' +
        [
          'overrides.Task.partitionBy: partition field "bucket(CreatedDate)": bucket needs a count, e.g. bucket(16, CreatedDate)',
          'overrides.Task.partitionBy: partition field "bucket(0, Id)": the bucket count must be a positive whole number',
          'overrides.Task.partitionBy: partition field "month(CreatedDate)" is given twice',
          'overrides.Task.sortBy: must be a list of columns, each optionally followed by " desc", such as ["AccountId", "CreatedDate desc"] (it is "CreatedDate")',
          'partitionBy: partition field "month(CreatedDate" is not a column or a transform of one, e.g. "month(CreatedDate)" or "bucket(16, AccountId)"',
          'partitionBy: partition field "week(CreatedDate)": unknown transform "week"; use identity, year, month, day, hour, bucket(N, column) or truncate(W, column)',
          'sortBy: sort field "CreatedDate downwards" is not a column name, optionally followed by asc or desc (e.g. "CreatedDate desc")',
          'sortBy: sort field "accountid desc" is given twice',
        ].join('; '),
    );
    expect(messageFor({ partitionBy: [3] })).toBe('Invalid sync input: partitionBy[0]: must be text such as "month(CreatedDate)" or "AccountId" (it is 3)');
  });

  it("reach the child's input unchanged (its lighter check keeps them)", () => {
    const child = { object: 'Task', namespace: ['crm'], full: false, partitionBy: ['month(CreatedDate)'], sortBy: ['AccountId desc'], syncWideLayout: ['partitionBy'] };
    expect(checkSyncObjectInput(child)).toEqual({ input: child });
    expect(syncObjectInputProblems({ ...child, partitionBy: ['month('] })).toHaveLength(1);
  });
});
