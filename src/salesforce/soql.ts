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
 * SELECT … FROM … built only from names describe returned (a setting can never inject SOQL), with
 * the incremental window, an optional resume point and IsDeleted for deleted-row reads. Ordered
 * by (cursor, Id) when there is a cursor, so a read can resume after its last row — except with
 * `ordered: false`, for Bulk jobs: ORDER BY (or LIMIT) stops Salesforce from splitting a large
 * query into chunks, and a Bulk read resumes by its job's result locator instead.
 */
export function buildSoql(
  describe: SObjectDescribe,
  fields: string[],
  opts: { window?: CursorWindow; resumeAfter?: ResumeAfter; deletedOnly?: boolean; ordered?: boolean } = {},
): string {
  const known = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f.name]));
  const name = (n: string) => {
    const real = known.get(n.toLowerCase());
    if (!real || !IDENT.test(real)) throw new SyncError(`${describe.name} has no field ${n}`, { code: ERROR_CODES.UNKNOWN_FIELD, retryable: false });
    return real;
  };
  if (!IDENT.test(describe.name)) throw new SyncError(`invalid object name ${describe.name}`, { code: ERROR_CODES.UNKNOWN_OBJECT, retryable: false });
  const where: string[] = [];
  const w = opts.window;
  const cursor = w ? name(w.field) : undefined;
  if (w?.after) where.push(`${cursor} > ${soqlDatetime(w.after)}`);
  if (w?.upTo) where.push(`${cursor} <= ${soqlDatetime(w.upTo)}`);
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
  if (opts.ordered === false && opts.resumeAfter) throw new SyncError('a read that resumes after a row must be ordered', { code: ERROR_CODES.INTERNAL, retryable: false });
  const select = fields.map(name).join(', ');
  const order = opts.ordered === false ? '' : cursor ? ` ORDER BY ${cursor}, Id` : ' ORDER BY Id';
  return `SELECT ${select} FROM ${describe.name}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`;
}
