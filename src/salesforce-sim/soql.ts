/**
 * The SOQL subset the simulator understands — what this project sends, and what simple_salesforce
 * users typically send: SELECT fields (or COUNT()) FROM object [WHERE conditions with AND/OR/parentheses on
 * =, !=, <, <=, >, >=] [ORDER BY field [ASC|DESC], ...] [LIMIT n]. Errors carry Salesforce's
 * error codes (MALFORMED_QUERY; INVALID_TYPE / INVALID_FIELD are raised by the org).
 */
export type Literal = string | number | boolean | null | { datetime: string };
export type Condition = { kind: 'compare'; field: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Literal } | { kind: 'and' | 'or'; left: Condition; right: Condition };

export interface Query {
  fields: string[];
  object: string;
  where?: Condition;
  orderBy: { field: string; desc: boolean }[];
  limit?: number;
  /** SELECT COUNT(): the answer is the number of rows only. */
  count?: boolean;
}

export class SoqlError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN =
  /\s*(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))|(\d{4}-\d{2}-\d{2})|('(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)|(!=|<=|>=|[=<>(),])|([A-Za-z_][A-Za-z0-9_.]*))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${text.slice(pos).trim().split(/\s/)[0]}'`);
    tokens.push(m[0].trim());
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

export function parseSoql(text: string): Query {
  const t = tokenize(text);
  let i = 0;
  const peek = () => t[i];
  const upper = () => t[i]?.toUpperCase();
  const expect = (word: string) => {
    if (upper() !== word) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${t[i] ?? '<end>'}', expected ${word}`);
    i++;
  };
  expect('SELECT');
  const fields: string[] = [];
  const count = upper() === 'COUNT' && t[i + 1] === '(' && t[i + 2] === ')';
  if (count) i += 3;
  while (!count) {
    const name = t[i++];
    if (!name || !/^[A-Za-z_]/.test(name)) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${name ?? '<end>'}'`);
    fields.push(name);
    if (peek() !== ',') break;
    i++;
  }
  expect('FROM');
  const object = t[i++];
  if (!object) throw new SoqlError('MALFORMED_QUERY', 'unexpected end of query, expected an object name');

  const literal = (): Literal => {
    const tok = t[i++];
    if (tok === undefined) throw new SoqlError('MALFORMED_QUERY', 'unexpected end of query, expected a value');
    if (tok.startsWith("'")) return tok.slice(1, -1).replace(/\\(.)/g, '$1');
    if (/^\d{4}-\d{2}-\d{2}T/.test(tok)) return { datetime: tok };
    if (/^\d{4}-\d{2}-\d{2}$/.test(tok)) return tok;
    if (/^-?\d/.test(tok)) return Number(tok);
    if (tok.toUpperCase() === 'TRUE') return true;
    if (tok.toUpperCase() === 'FALSE') return false;
    if (tok.toUpperCase() === 'NULL') return null;
    throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${tok}'`);
  };
  const primary = (): Condition => {
    if (peek() === '(') {
      i++;
      const inner = disjunction();
      if (t[i++] !== ')') throw new SoqlError('MALFORMED_QUERY', "unexpected token, expected ')'");
      return inner;
    }
    const field = t[i++];
    const op = t[i++];
    if (!field || !op || !['=', '!=', '<', '<=', '>', '>='].includes(op)) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${op ?? field ?? '<end>'}'`);
    return { kind: 'compare', field, op: op as '=', value: literal() };
  };
  const conjunction = (): Condition => {
    let left = primary();
    while (upper() === 'AND') {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const disjunction = (): Condition => {
    let left = conjunction();
    while (upper() === 'OR') {
      i++;
      left = { kind: 'or', left, right: conjunction() };
    }
    return left;
  };

  const query: Query = { fields, object, orderBy: [], ...(count ? { count } : {}) };
  if (upper() === 'WHERE') {
    i++;
    query.where = disjunction();
  }
  if (upper() === 'ORDER') {
    i++;
    expect('BY');
    for (;;) {
      const field = t[i++]!;
      let desc = false;
      if (upper() === 'ASC' || upper() === 'DESC') desc = t[i++]!.toUpperCase() === 'DESC';
      query.orderBy.push({ field, desc });
      if (peek() !== ',') break;
      i++;
    }
  }
  if (upper() === 'LIMIT') {
    i++;
    const n = Number(t[i++]);
    if (!Number.isInteger(n) || n < 0) throw new SoqlError('MALFORMED_QUERY', 'LIMIT must be a non-negative integer');
    query.limit = n;
  }
  if (i < t.length) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${t[i]}'`);
  return query;
}

/** Fields a condition mentions (to validate them against describe). */
export function conditionFields(c: Condition | undefined): string[] {
  if (!c) return [];
  return c.kind === 'compare' ? [c.field] : [...conditionFields(c.left), ...conditionFields(c.right)];
}
