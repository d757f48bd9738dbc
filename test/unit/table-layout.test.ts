import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SyncError } from '../../src/errors';
import { bindLayout, newTableLayout, planLayoutChange, unknownTransforms, type TableLayout } from '../../src/iceberg/layout';
import type { Schema, TableMetadata } from '../../src/iceberg/spec';
import { parsePartitionText, parseSortText, type PartitionRequest, type SortRequest } from '../../src/iceberg/spec/layout-syntax';
import { planSchema } from '../../src/mapping/schema-mapping';
import type { SalesforceField } from '../../src/salesforce/describe-types';
import { resolveLayout } from '../../src/sync/layout';

const schema: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'string' },
    { id: 2, name: 'account_id', required: false, type: 'string' },
    { id: 3, name: 'created_date', required: false, type: 'timestamptz' },
    { id: 4, name: 'activity_date', required: false, type: 'date' },
    { id: 5, name: 'amount', required: false, type: 'double' },
  ],
};

const partitions = (...texts: string[]): PartitionRequest[] =>
  texts.map((t) => {
    const parsed = parsePartitionText(t);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.request;
  });
const sorts = (...texts: string[]): SortRequest[] =>
  texts.map((t) => {
    const parsed = parseSortText(t);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.request;
  });

function metadata(over: Partial<TableMetadata> = {}): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': 'u',
    location: 's3://w/t',
    'last-updated-ms': 0,
    'last-column-id': 5,
    'current-schema-id': 0,
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    ...over,
  };
}

/** The metadata a catalog would hold after applying the change (enough of it for these plans). */
function applied(m: TableMetadata, layout: TableLayout): TableMetadata {
  const { updates } = planLayoutChange(m, layout, 't');
  const next = structuredClone(m);
  for (const u of updates) {
    if (u.action === 'add-spec') {
      next['partition-specs'].push(u.spec);
      next['last-partition-id'] = Math.max(next['last-partition-id'] ?? 999, ...u.spec.fields.map((f) => f['field-id']));
    }
    if (u.action === 'set-default-spec') next['default-spec-id'] = u['spec-id'] === -1 ? next['partition-specs'].at(-1)!['spec-id'] : u['spec-id'];
    if (u.action === 'add-sort-order') next['sort-orders']!.push(u['sort-order']);
    if (u.action === 'set-default-sort-order') next['default-sort-order-id'] = u['sort-order-id'] === -1 ? next['sort-orders']!.at(-1)!['order-id'] : u['sort-order-id'];
  }
  return next;
}

function refusal(run: () => unknown): SyncError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    return error as SyncError;
  }
  throw new Error('not refused');
}

describe('partitioned tables: a new table’s spec and write order', () => {
  it('numbers partition fields from 1000 and names them as Iceberg’s writers do', () => {
    const layout = newTableLayout(schema, { partitionBy: partitions('month(created_date)', 'bucket(16, account_id)'), sortBy: sorts('account_id', 'created_date desc') }, 't');
    expect(layout['partition-spec']).toEqual({
      'spec-id': 0,
      fields: [
        { 'source-id': 3, 'field-id': 1000, name: 'created_date_month', transform: 'month' },
        { 'source-id': 2, 'field-id': 1001, name: 'account_id_bucket', transform: 'bucket[16]' },
      ],
    });
    expect(layout['write-order']).toEqual({
      'order-id': 1,
      fields: [
        { transform: 'identity', 'source-id': 2, direction: 'asc', 'null-order': 'nulls-first' },
        { transform: 'identity', 'source-id': 3, direction: 'desc', 'null-order': 'nulls-last' },
      ],
    });
  });

  it('is unpartitioned and unsorted (order 0) when nothing is asked', () => {
    expect(newTableLayout(schema, {}, 't')).toEqual({ 'partition-spec': { 'spec-id': 0, fields: [] }, 'write-order': { 'order-id': 0, fields: [] } });
  });
});

describe('partitioned tables: evolving an existing table', () => {
  it('adds a spec and makes it default (spec-id -1: the one last added), guarded by the default and the last partition id', () => {
    const change = planLayoutChange(metadata(), { partitionBy: partitions('day(created_date)') }, 't');
    expect(change.requirements).toEqual([
      { type: 'assert-default-spec-id', 'default-spec-id': 0 },
      { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 999 },
    ]);
    expect(change.updates).toEqual([
      { action: 'add-spec', spec: { 'spec-id': 1, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'created_date_day', transform: 'day' }] } },
      { action: 'set-default-spec', 'spec-id': -1 },
    ]);
    expect(change.changes).toEqual(['partition spec unpartitioned → day(created_date)']);
  });

  it('changes nothing when the table already has the layout, and keeps the table’s own when none is asked', () => {
    const m = applied(metadata(), { partitionBy: partitions('day(created_date)'), sortBy: sorts('account_id') });
    expect(m['default-spec-id']).toBe(1);
    expect(m['default-sort-order-id']).toBe(1);
    expect(planLayoutChange(m, { partitionBy: partitions('day(CREATED_DATE)'), sortBy: sorts('account_id asc') }, 't').updates).toEqual([]);
    expect(planLayoutChange(m, {}, 't').updates).toEqual([]);
  });

  it('reuses the field ids of earlier specs for the same column and transform, and makes an earlier spec default again without adding it', () => {
    const one = applied(metadata(), { partitionBy: partitions('month(created_date)') });
    const two = planLayoutChange(one, { partitionBy: partitions('month(created_date)', 'bucket(8, account_id)') }, 't');
    expect(two.updates[0]).toEqual({
      action: 'add-spec',
      spec: {
        'spec-id': 2,
        fields: [
          { 'source-id': 3, 'field-id': 1000, name: 'created_date_month', transform: 'month' },
          { 'source-id': 2, 'field-id': 1001, name: 'account_id_bucket', transform: 'bucket[8]' },
        ],
      },
    });
    expect(two.requirements).toContainEqual({ type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1000 });
    const back = planLayoutChange(applied(one, { partitionBy: partitions('month(created_date)', 'bucket(8, account_id)') }), { partitionBy: [] }, 't');
    expect(back.updates).toEqual([{ action: 'set-default-spec', 'spec-id': 0 }]);
    expect(back.requirements).toEqual([{ type: 'assert-default-spec-id', 'default-spec-id': 2 }]);
  });

  it('adds a sort order (descending: nulls last) or goes back to unsorted (order 0)', () => {
    const change = planLayoutChange(metadata(), { sortBy: sorts('amount DESC') }, 't');
    expect(change.requirements).toEqual([{ type: 'assert-default-sort-order-id', 'default-sort-order-id': 0 }]);
    expect(change.updates).toEqual([
      { action: 'add-sort-order', 'sort-order': { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 5, direction: 'desc', 'null-order': 'nulls-last' }] } },
      { action: 'set-default-sort-order', 'sort-order-id': -1 },
    ]);
    const sorted = applied(metadata(), { sortBy: sorts('amount desc') });
    expect(planLayoutChange(sorted, { sortBy: [] }, 't').updates).toEqual([{ action: 'set-default-sort-order', 'sort-order-id': 0 }]);
  });

  it('refuses a column the table lacks or a transform its type does not take, naming column, type and what it takes', () => {
    const missing = refusal(() => bindLayout(schema, { partitionBy: partitions('month(closed_date)') }, 'crm.task'));
    expect(missing.code).toBe(ERROR_CODES.INPUT_INVALID);
    expect(missing.retryable).toBe(false);
    expect(missing.message).toMatch(/crm\.task has no column "closed_date"/);
    const mismatch = refusal(() => planLayoutChange(metadata(), { partitionBy: partitions('hour(activity_date)') }, 'crm.task'));
    expect(mismatch.code).toBe(ERROR_CODES.INPUT_INVALID);
    expect(mismatch.message).toBe(
      'partition field "hour(activity_date)": column activity_date of crm.task is of Iceberg type date, and hour needs a timestamp column; a date column takes identity, year, month, day, bucket(N, …)',
    );
    expect(refusal(() => bindLayout(schema, { partitionBy: partitions('truncate(4, amount)') }, 't')).message).toMatch(/double .*takes identity$/);
    expect(refusal(() => bindLayout(schema, { sortBy: sorts('amount', 'AMOUNT desc') }, 't')).message).toMatch(/given twice/);
  });

  it('names a default spec whose transform this writer does not know; every known one passes', () => {
    const known = metadata({
      'partition-specs': [{ 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'd', transform: 'day' }] }],
    });
    expect(unknownTransforms(known)).toBeUndefined();
    const unknown = metadata({
      'partition-specs': [
        { 'spec-id': 0, fields: [] },
        { 'spec-id': 1, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'z', transform: 'zorder' }] },
      ],
      'default-spec-id': 1,
    });
    expect(unknownTransforms(unknown)).toMatch(/^zorder\(account_id\), and zorder is a transform syncs do not write/);
  });
});

describe('partitioned tables: partitionBy and sortBy of an object', () => {
  const fields: SalesforceField[] = [
    { name: 'Id', type: 'id' },
    { name: 'AccountId', type: 'reference' },
    { name: 'CreatedDate', type: 'datetime' },
    { name: 'ActivityDate', type: 'date' },
    { name: 'Subject', type: 'string' },
  ];
  const planned = planSchema(fields, { naming: 'snake_case' }).schema;

  it('takes Salesforce field names or column names and gives column names', () => {
    const { layout, kept } = resolveLayout('Task', fields, planned, 'snake_case', { partitionBy: ['month(CreatedDate)', 'bucket(16, account_id)'], sortBy: ['ActivityDate desc'] });
    expect(kept).toEqual([]);
    expect(layout.partitionBy?.map((p) => [p.transform, p.column])).toEqual([
      [{ kind: 'month' }, 'created_date'],
      [{ kind: 'bucket', n: 16 }, 'account_id'],
    ]);
    expect(layout.sortBy?.map((s) => [s.column, s.direction])).toEqual([['activity_date', 'desc']]);
    // The layout binds to the table the destination creates from the same fields.
    expect(newTableLayout(planned, layout, 't')['partition-spec'].fields.map((f) => f.name)).toEqual(['created_date_month', 'account_id_bucket']);
  });

  it("refuses an object's own list that does not fit, naming object, field, type and what the type takes", () => {
    const unknown = refusal(() => resolveLayout('Task', fields, planned, 'snake_case', { partitionBy: ['month(CreatedDat)'] }));
    expect(unknown.code).toBe(ERROR_CODES.INPUT_INVALID);
    expect(unknown.message).toBe('overrides.Task.partitionBy: Task has no field or column "CreatedDat" (did you mean CreatedDate?)');
    const mismatch = refusal(() => resolveLayout('Task', fields, planned, 'snake_case', { partitionBy: ['hour(ActivityDate)'] }));
    expect(mismatch.message).toBe(
      'overrides.Task.partitionBy: partition field "hour(ActivityDate)": Task.ActivityDate (column activity_date) is of Iceberg type date, and hour needs a timestamp column; a date column takes identity, year, month, day, bucket(N, …)',
    );
    expect(refusal(() => resolveLayout('Task', fields, planned, 'snake_case', { sortBy: ['Subject up'] })).message).toMatch(/^overrides\.Task\.sortBy: sort field "Subject up"/);
  });

  it('leaves the table as it is for an object without the columns of the sync-wide lists, and says why', () => {
    const { layout, kept } = resolveLayout('Account', fields.slice(0, 3), planSchema(fields.slice(0, 3), { naming: 'snake_case' }).schema, 'snake_case', {
      partitionBy: ['day(ActivityDate)'],
      sortBy: ['AccountId'],
      syncWideLayout: ['partitionBy', 'sortBy'],
    });
    expect(layout).toEqual({ sortBy: [{ column: 'account_id', direction: 'asc', text: 'AccountId' }] });
    expect(kept).toEqual([
      `the sync's partitionBy ["day(ActivityDate)"] does not apply to Account (Account has no field or column "ActivityDate"): its table keeps its partition spec`,
    ]);
  });
});
