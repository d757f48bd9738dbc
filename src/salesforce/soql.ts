import type { SObjectDescribe } from './describe';
import { datetimeMicros } from './values';
import { ERROR_CODES, SyncError } from '../errors';

/** Incremental window: `after < cursor <= upTo` (ISO instants); either side may be open. */
export interface CursorWindow {
  field: string;
  after?: string;
  upTo?: string;
}

/** Where a read resumes: after the last row read, ordered by (cursor, Id), or by Id without a cursor. */
export interface ResumeAfter {
  cursor?: string;
  id: string;
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;
const SF_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

/** A SOQL datetime literal (UTC, milliseconds). */
export function soqlDatetime(iso: string): string {
  return new Date(datetimeMicros(iso) / 1000).toISOString();
}

/**
 * Rows whose `field` lies in [from, before) (ISO instants; either side may be open): a slice of a
 * read on a field no update changes (CreatedDate), so a row is in exactly one slice.
 */
export interface FieldRange {
  field: string;
  from?: string;
  before?: string;
}

export interface QueryShape {
  window?: CursorWindow;
  range?: FieldRange;
  resumeAfter?: ResumeAfter;
  deletedOnly?: boolean;
  ordered?: boolean;
}

/** Field names as describe spells them, refusing any describe did not return (a setting can never inject SOQL). */
function namer(describe: SObjectDescribe): (n: string) => string {
  const known = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f.name]));
  if (!IDENT.test(describe.name)) throw new SyncError(`invalid object name ${describe.name}`, { code: ERROR_CODES.UNKNOWN_OBJECT, retryable: false });
  return (n: string) => {
    const real = known.get(n.toLowerCase());
    if (!real || !IDENT.test(real)) throw new SyncError(`${describe.name} has no field ${n}`, { code: ERROR_CODES.UNKNOWN_FIELD, retryable: false });
    return real;
  };
}

/** The WHERE clause of a read: the window, the range, a resume point, IsDeleted. */
function whereClause(describe: SObjectDescribe, opts: QueryShape): string {
  const name = namer(describe);
  const where: string[] = [];
  const w = opts.window;
  const cursor = w ? name(w.field) : undefined;
  if (w?.after) where.push(`${cursor} > ${soqlDatetime(w.after)}`);
  if (w?.upTo) where.push(`${cursor} <= ${soqlDatetime(w.upTo)}`);
  const r = opts.range;
  if (r?.from) where.push(`${name(r.field)} >= ${soqlDatetime(r.from)}`);
  if (r?.before) where.push(`${name(r.field)} < ${soqlDatetime(r.before)}`);
  if (opts.resumeAfter) {
    const { id, cursor: after } = opts.resumeAfter;
    if (!SF_ID.test(id)) throw new SyncError(`invalid record id ${id}`, { code: ERROR_CODES.INTERNAL, retryable: false });
    if (cursor) {
      if (!after) throw new SyncError(`a resume point of a read ordered by ${cursor} needs its ${cursor} value`, { code: ERROR_CODES.INTERNAL, retryable: false });
      const at = soqlDatetime(after);
      where.push(`(${cursor} > ${at} OR (${cursor} = ${at} AND Id > '${id}'))`);
    } else {
      where.push(`Id > '${id}'`);
    }
  }
  if (opts.deletedOnly) where.push('IsDeleted = true');
  return where.length ? ` WHERE ${where.join(' AND ')}` : '';
}

/**
 * SELECT … FROM … built only from names describe returned, with the incremental window, an
 * optional range and resume point, and IsDeleted for deleted-row reads. Ordered by (cursor, Id)
 * when there is a cursor, so a read can resume after its last row — except with `ordered: false`,
 * for Bulk jobs: ORDER BY (or LIMIT) stops Salesforce from splitting a large query into chunks,
 * and a Bulk read resumes by its job's result locator instead.
 */
export function buildSoql(describe: SObjectDescribe, fields: string[], opts: QueryShape = {}): string {
  const name = namer(describe);
  if (opts.ordered === false && opts.resumeAfter) throw new SyncError('a read that resumes after a row must be ordered', { code: ERROR_CODES.INTERNAL, retryable: false });
  const select = fields.map(name).join(', ');
  const where = whereClause(describe, opts);
  const cursor = opts.window ? name(opts.window.field) : undefined;
  const order = opts.ordered === false ? '' : cursor ? ` ORDER BY ${cursor}, Id` : ' ORDER BY Id';
  return `SELECT ${select} FROM ${describe.name}${where}${order}`;
}

/** `SELECT COUNT() FROM …` over the rows a read of this shape returns (a REST query; Bulk takes no aggregates). */
export function countSoql(describe: SObjectDescribe, opts: Pick<QueryShape, 'window' | 'range' | 'deletedOnly'> = {}): string {
  return `SELECT COUNT() FROM ${describe.name}${whereClause(describe, opts)}`;
}

/** The row with the lowest (or highest) `field` among those a read of this shape returns: one indexed REST query. */
export function edgeSoql(describe: SObjectDescribe, field: string, edge: 'first' | 'last', opts: Pick<QueryShape, 'window' | 'range'> = {}): string {
  const name = namer(describe)(field);
  return `SELECT ${name} FROM ${describe.name}${whereClause(describe, opts)} ORDER BY ${name} ${edge === 'first' ? 'ASC' : 'DESC'} LIMIT 1`;
}
