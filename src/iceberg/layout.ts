import { ERROR_CODES, SyncError } from '../errors';
import type { TableRequirement, TableUpdate } from './catalog';
import { currentSchema, defaultSortOrder, defaultSpec, type NestedField, type PartitionSpec, type PrimitiveType, type Schema, type SortOrder, type TableMetadata } from './spec';
import type { PartitionRequest, SortRequest, Transform } from './spec/layout-syntax';
import { buildSpec, describeSpec, FIRST_PARTITION_FIELD_ID, parseTransformName, sameSortOrder, sameSpec, transformMismatch, type SortField } from './spec/partition';

/*
 * A table's layout — its default partition spec and sort order — as a writer asks for it, and the
 * catalog updates that give a table that layout: a new table is created with it; an existing one
 * whose default differs gets a new spec (or sort order) made default. Files already written keep
 * the spec they were written with: nothing is rewritten.
 */

/** The layout asked of a table, by column name (of the table's schema). */
export interface TableLayout {
  /** The partition fields; [] asks for an unpartitioned table; absent: the table keeps its spec. */
  partitionBy?: PartitionRequest[];
  /** The sort fields; [] asks for an unsorted table; absent: the table keeps its sort order. */
  sortBy?: SortRequest[];
}

/** A layout's columns found in a schema. */
interface BoundLayout {
  partitionBy?: { transform: Transform; source: NestedField }[];
  sortBy?: { source: NestedField; direction: 'asc' | 'desc' }[];
}

const invalid = (message: string) => new SyncError(message, { code: ERROR_CODES.INPUT_INVALID, retryable: false });

const TRANSFORM_EXAMPLES: [Transform, string][] = [
  [{ kind: 'identity' }, 'identity'],
  [{ kind: 'year' }, 'year'],
  [{ kind: 'month' }, 'month'],
  [{ kind: 'day' }, 'day'],
  [{ kind: 'hour' }, 'hour'],
  [{ kind: 'bucket', n: 16 }, 'bucket(N, …)'],
  [{ kind: 'truncate', width: 4 }, 'truncate(W, …)'],
];

/** The transforms a column of this type takes, as people write them ("identity, bucket(N, …), truncate(W, …)"). */
export function allowedTransforms(type: PrimitiveType): string {
  return TRANSFORM_EXAMPLES.filter(([t]) => transformMismatch(t, type) === undefined)
    .map(([, text]) => text)
    .join(', ');
}

/**
 * Why a transform does not fit a column, naming the column, its type and what the type takes; or
 * undefined when it fits.
 */
export function layoutMismatch(request: PartitionRequest, column: string, type: PrimitiveType): string | undefined {
  const why = transformMismatch(request.transform, type);
  return why && `partition field "${request.text}": ${column} is of Iceberg type ${type}, and ${why}; a ${type} column takes ${allowedTransforms(type)}`;
}

/** Finds the layout's columns in the schema; a column it lacks, or a transform its type does not take, is INPUT_INVALID. */
export function bindLayout(schema: Schema, layout: TableLayout, table: string): BoundLayout {
  const column = (name: string, what: string) => {
    const found = schema.fields.find((f) => f.name === name) ?? schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!found) throw invalid(`${what}: table ${table} has no column "${name}"`);
    return found;
  };
  const bound: BoundLayout = {};
  if (layout.partitionBy) {
    bound.partitionBy = layout.partitionBy.map((r) => {
      const source = column(r.column, `partition field "${r.text}"`);
      const mismatch = layoutMismatch(r, `column ${source.name} of ${table}`, source.type);
      if (mismatch) throw invalid(mismatch);
      return { transform: r.transform, source };
    });
  }
  if (layout.sortBy) {
    const seen = new Set<number>();
    bound.sortBy = layout.sortBy.map((r) => {
      const source = column(r.column, `sort field "${r.text}"`);
      if (seen.has(source.id)) throw invalid(`sort field "${r.text}": column ${source.name} is given twice`);
      seen.add(source.id);
      return { source, direction: r.direction };
    });
  }
  return bound;
}

/** Sort fields of identity transforms (Iceberg's null order defaults: first when ascending, last when descending). */
function sortFields(sortBy: NonNullable<BoundLayout['sortBy']>): SortField[] {
  return sortBy.map(({ source, direction }) => ({ transform: 'identity', 'source-id': source.id, direction, 'null-order': direction === 'asc' ? 'nulls-first' : 'nulls-last' }));
}

/** A new table's partition spec and write order (spec 0, field ids from 1000; order 1, or 0 when unsorted). */
export function newTableLayout(schema: Schema, layout: TableLayout, table: string): { 'partition-spec': PartitionSpec; 'write-order': SortOrder } {
  const bound = bindLayout(schema, layout, table);
  const { spec } = buildSpec(bound.partitionBy ?? [], { specId: 0, earlier: [], lastPartitionId: FIRST_PARTITION_FIELD_ID - 1 });
  const fields = sortFields(bound.sortBy ?? []);
  return { 'partition-spec': spec, 'write-order': { 'order-id': fields.length > 0 ? 1 : 0, fields } };
}

/** A table's default sort order, as an unsorted one (with its id) when it has none. */
function defaultSortOrderOf(metadata: TableMetadata): SortOrder {
  return defaultSortOrder(metadata) ?? { 'order-id': metadata['default-sort-order-id'] ?? 0, fields: [] };
}

/** A sort order as people read it: `account_id, created_date desc`. */
export function describeSortOrder(order: SortOrder, schema: Schema): string {
  if (order.fields.length === 0) return 'unsorted';
  return order.fields
    .map((f) => {
      const name = schema.fields.find((c) => c.id === f['source-id'])?.name ?? `#${f['source-id']}`;
      return `${f.transform === 'identity' ? name : `${f.transform}(${name})`}${f.direction === 'desc' ? ' desc' : ''}`;
    })
    .join(', ');
}

/** What a layout change commits, and what it changes as people read it (empty: nothing to change). */
export interface LayoutChange {
  updates: TableUpdate[];
  requirements: TableRequirement[];
  changes: string[];
}

/**
 * The updates that make the asked layout the table's default: a spec the table had before is made
 * default again; another is added (`add-spec`, then `set-default-spec` -1: the one last added),
 * with field ids of earlier specs reused for the same column and transform. Guarded by the default
 * it was planned from (and the last partition field id), so a concurrent change fails the commit.
 * Sort orders likewise. Nothing when the table already has the layout.
 */
export function planLayoutChange(metadata: TableMetadata, layout: TableLayout, table: string): LayoutChange {
  const schema = currentSchema(metadata);
  const bound = bindLayout(schema, layout, table);
  const out: LayoutChange = { updates: [], requirements: [], changes: [] };
  if (bound.partitionBy) {
    const specs = metadata['partition-specs'];
    const current = defaultSpec(metadata);
    const lastPartitionId = metadata['last-partition-id'] ?? Math.max(FIRST_PARTITION_FIELD_ID - 1, ...specs.flatMap((s) => s.fields.map((f) => f['field-id'])));
    const { spec } = buildSpec(bound.partitionBy, { specId: Math.max(-1, ...specs.map((s) => s['spec-id'])) + 1, earlier: specs, lastPartitionId });
    if (!sameSpec(spec, current)) {
      out.requirements.push({ type: 'assert-default-spec-id', 'default-spec-id': current['spec-id'] });
      const earlier = specs.find((s) => sameSpec(s, spec));
      if (earlier) {
        out.updates.push({ action: 'set-default-spec', 'spec-id': earlier['spec-id'] });
      } else {
        out.requirements.push({ type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': lastPartitionId });
        out.updates.push({ action: 'add-spec', spec }, { action: 'set-default-spec', 'spec-id': -1 });
      }
      out.changes.push(`partition spec ${describeSpec(current, schema)} → ${describeSpec(spec, schema)}`);
    }
  }
  if (bound.sortBy) {
    const orders = metadata['sort-orders'] ?? [];
    const current = defaultSortOrderOf(metadata);
    const fields = sortFields(bound.sortBy);
    const wanted: SortOrder = { 'order-id': fields.length === 0 ? 0 : Math.max(0, ...orders.map((o) => o['order-id'])) + 1, fields };
    if (!sameSortOrder(wanted, current)) {
      out.requirements.push({ type: 'assert-default-sort-order-id', 'default-sort-order-id': current['order-id'] });
      const earlier = orders.find((o) => sameSortOrder(o, wanted));
      if (earlier) out.updates.push({ action: 'set-default-sort-order', 'sort-order-id': earlier['order-id'] });
      else out.updates.push({ action: 'add-sort-order', 'sort-order': wanted }, { action: 'set-default-sort-order', 'sort-order-id': -1 });
      out.changes.push(`sort order ${describeSortOrder(current, schema)} → ${describeSortOrder(wanted, schema)}`);
    }
  }
  return out;
}

/**
 * Why this writer cannot write with the table's default spec (a transform it does not know, such
 * as one of a later format version), or undefined when it can.
 */
export function unknownTransforms(metadata: TableMetadata): string | undefined {
  const spec = defaultSpec(metadata);
  const unknown = spec.fields.filter((f) => parseTransformName(f.transform) === undefined);
  if (unknown.length === 0) return undefined;
  return `${describeSpec(spec, currentSchema(metadata))}, and ${unknown.map((f) => f.transform).join(', ')} ${unknown.length === 1 ? 'is a transform' : 'are transforms'} syncs do not write (they write ${['identity', 'year', 'month', 'day', 'hour', 'bucket[N]', 'truncate[W]'].join(', ')})`;
}
