/*
 * What a user writes to lay a table out — partition fields ("month(CreatedDate)", "bucket(16,
 * AccountId)") and sort fields ("AccountId", "CreatedDate desc") — read into typed requests. Pure:
 * it imports nothing, so the workflows' input check (workflows/input.ts) refuses bad syntax with
 * the same parser that prepare uses (spec/partition.ts wraps it in the product's errors).
 */

export type Transform =
  | { kind: 'identity' }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'bucket'; n: number }
  | { kind: 'truncate'; width: number }
  | { kind: 'void' };

/** A partition field as a user asks for it: a transform of a column (by name). */
export interface PartitionRequest {
  transform: Transform;
  column: string;
  /** The text it was parsed from, for errors. */
  text: string;
}

/** A sort field as a user asks for it: a column (by name), ascending or descending. */
export interface SortRequest {
  column: string;
  direction: 'asc' | 'desc';
  /** The text it was parsed from, for errors. */
  text: string;
}

/** The transforms a user may ask for, as the error messages list them. */
export const TRANSFORM_SYNTAX = 'a column, or identity, year, month, day or hour of one ("month(CreatedDate)"), bucket(N, column) or truncate(W, column)';

const PLURAL: Record<string, Transform['kind']> = { years: 'year', months: 'month', days: 'day', hours: 'hour', date: 'day' };
const SIMPLE_KINDS = ['identity', 'year', 'month', 'day', 'hour', 'void'];
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses what a user writes for one partition field: `Column` or `identity(Column)`,
 * `year(Column)` (and Spark's `years`), `month`, `day`, `hour`, `bucket(16, Column)` or
 * `bucket[16](Column)`, `truncate(4, Column)` or `truncate[4](Column)`. Gives the request, or
 * what is wrong with the text.
 */
export function parsePartitionText(text: string): { request: PartitionRequest } | { error: string } {
  if (typeof text !== 'string') return { error: `partition field ${JSON.stringify(text)} is not text such as "month(CreatedDate)"` };
  const s = text.trim();
  if (COLUMN.test(s)) return { request: { transform: { kind: 'identity' }, column: s, text } };
  const withArg = /^(bucket|truncate)\s*(?:\[\s*(\d+)\s*\]\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|\(\s*(\d+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\))$/i.exec(s);
  if (withArg) {
    const kind = withArg[1]!.toLowerCase();
    const n = Number(withArg[2] ?? withArg[4]);
    const column = (withArg[3] ?? withArg[5])!;
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1)
      return { error: `partition field "${text}": the ${kind} ${kind === 'bucket' ? 'count' : 'width'} must be a positive whole number` };
    return { request: { transform: kind === 'bucket' ? { kind: 'bucket', n } : { kind: 'truncate', width: n }, column, text } };
  }
  const plain = /^([A-Za-z]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(s);
  if (plain) {
    const name = plain[1]!.toLowerCase();
    const kind = SIMPLE_KINDS.includes(name) ? (name as Transform['kind']) : PLURAL[name];
    if (kind) return { request: { transform: { kind } as Transform, column: plain[2]!, text } };
    if (name === 'bucket' || name === 'truncate')
      return { error: `partition field "${text}": ${name} needs a ${name === 'bucket' ? 'count' : 'width'}, e.g. ${name}(16, ${plain[2]})` };
    return { error: `partition field "${text}": unknown transform "${plain[1]}"; use identity, year, month, day, hour, bucket(N, column) or truncate(W, column)` };
  }
  return { error: `partition field "${text}" is not a column or a transform of one, e.g. "month(CreatedDate)" or "bucket(16, AccountId)"` };
}

/** Parses one sort field: `Column`, `Column asc` or `Column desc`. */
export function parseSortText(text: string): { request: SortRequest } | { error: string } {
  if (typeof text !== 'string') return { error: `sort field ${JSON.stringify(text)} is not text such as "CreatedDate" or "CreatedDate desc"` };
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?$/i.exec(text.trim());
  if (!m) return { error: `sort field "${text}" is not a column name, optionally followed by asc or desc (e.g. "CreatedDate desc")` };
  return { request: { column: m[1]!, direction: (m[2]?.toLowerCase() ?? 'asc') as 'asc' | 'desc', text } };
}

/**
 * What is wrong with a list of partition fields or of sort fields (empty when nothing): each
 * field's syntax, and a column given twice.
 */
export function layoutSyntaxProblems(kind: 'partitionBy' | 'sortBy', texts: string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    const parsed = kind === 'partitionBy' ? parsePartitionText(text) : parseSortText(text);
    if ('error' in parsed) {
      problems.push(parsed.error);
      continue;
    }
    const r = parsed.request;
    const key = 'transform' in r ? `${r.transform.kind}(${r.column.toLowerCase()})` : r.column.toLowerCase();
    if (seen.has(key)) problems.push(`${kind === 'partitionBy' ? 'partition' : 'sort'} field "${text}" is given twice`);
    seen.add(key);
  }
  return problems;
}
