import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { ERROR_CODES, SyncError } from '../errors';
import { withSettingNames } from './aliases';

/** A line of an env file that dotenv would skip or misread: where, which variable, what is wrong (never the value). */
export interface EnvFileProblem {
  line: number;
  name?: string;
  message: string;
}

/** An env file with syntax errors; the message lists each with its file and line number. */
export class EnvFileError extends SyncError {
  constructor(
    readonly file: string,
    readonly problems: EnvFileProblem[],
  ) {
    super(problems.map((p) => `${file} line ${p.line}: ${p.name ? `${p.name}: ` : ''}${p.message}`).join('\n'), { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
    this.name = 'EnvFileError';
  }
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*(.*)$/;

/** Whether `text` from `from` on is only blanks and an optional comment (what dotenv accepts after a value). */
const onlyTrailer = (text: string) => /^\s*(?:#.*)?$/.test(text);

/**
 * Lines dotenv would silently skip or read differently from what was meant: a line that is not
 * NAME=value, a quote that is never closed (dotenv then keeps the quote as part of the value), text
 * after a closing quote. Quoted values may span lines, as dotenv allows.
 */
export function envFileProblems(text: string): EnvFileProblem[] {
  const lines = text.split(/\r?\n|\r/);
  const problems: EnvFileProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(?:#.*)?$/.test(line)) continue;
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      const name = /^\s*(?:export\s+)?([^\s=:#]+)/.exec(line)?.[1];
      problems.push({ line: i + 1, message: `not a NAME=value line${name && !/^[\w.-]+$/.test(name) ? ' (a name may hold only letters, digits, _, . and -)' : ''}` });
      continue;
    }
    const name = m[1]!;
    const value = m[2]!;
    const quote = value[0];
    if (quote !== '"' && quote !== "'" && quote !== '`') continue;
    // The closing quote: on this line, or (dotenv allows it) on a later one.
    let rest = value.slice(1);
    let j = i;
    let close = findClose(rest, quote);
    while (close < 0 && j + 1 < lines.length) {
      j++;
      rest = lines[j]!;
      close = findClose(rest, quote);
    }
    if (close < 0) {
      problems.push({ line: i + 1, name, message: `the value opens a ${quote} quote that is never closed` });
      break; // everything after it would be read as part of the value
    }
    if (!onlyTrailer(rest.slice(close + 1))) {
      problems.push({
        line: j + 1,
        name,
        message:
          j === i
            ? `text after the closing ${quote} quote (quote the whole value, or put a space before a # comment)`
            : `the ${quote} quote opened on line ${i + 1} closes on line ${j + 1} with text after it (a quote missing on line ${i + 1}?)`,
      });
    }
    i = j;
  }
  return problems;
}

/** The index of the first unescaped `quote` in `text`, or -1. */
function findClose(text: string, quote: string): number {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === quote) return k;
  }
  return -1;
}

/** Parses KEY=VALUE lines (.env syntax: comments, quotes, export prefixes). */
export function parseEnvFile(text: string): Record<string, string> {
  return dotenv.parse(text);
}

/**
 * The directory whose `.env` and `.stack/stack.env` are read: the project root, or SF_ICEBERG_HOME.
 * `__dirname` is src/config.
 */
export function projectHome(): string {
  return path.resolve(process.env.SF_ICEBERG_HOME ?? path.join(__dirname, '..', '..'));
}

/** A settings file's values; its syntax errors are an EnvFileError naming the lines. */
function readIfPresent(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const problems = envFileProblems(text);
  if (problems.length > 0) throw new EnvFileError(file, problems);
  return parseEnvFile(text);
}

/**
 * Effective settings, highest precedence first: the process environment, then `.env.local` and
 * `.env` (the user's; `.env.local` is the original pipeline's file), then `.stack/stack.env`
 * (written by `npm run stack -- up` for the local stack). In each, a setting's original name
 * (src/config/aliases.ts) counts as the setting. The process environment is not modified.
 */
export function loadSettings(home = projectHome(), env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const stackDir = env.STACK_DIR ?? path.join(home, '.stack');
  const stack = withSettingNames(readIfPresent(path.join(stackDir, 'stack.env')));
  const dotenv = { ...withSettingNames(readIfPresent(path.join(home, '.env'))), ...withSettingNames(readIfPresent(path.join(home, '.env.local'))) };
  const own = withSettingNames(env);
  const merged: Record<string, string> = { ...stack, ...dotenv };
  for (const [key, value] of Object.entries(own)) {
    if (value !== undefined) merged[key] = value;
  }
  // A Temporal profile chosen by name is meant to be used: the local stack's Temporal address and
  // namespace, which would override the profile's (as any TEMPORAL_ variable does), give way.
  if (merged.TEMPORAL_PROFILE?.trim()) {
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) if (stack[key] !== undefined && dotenv[key] === undefined && own[key] === undefined) delete merged[key];
  }
  return merged;
}

/** Writes settings as an env file readable only by its owner (it may hold keys). */
export function writeEnvFile(file: string, settings: Record<string, string>, header: string): void {
  const lines = [`# ${header}`, ...Object.entries(settings).map(([key, value]) => `${key}=${quoteEnvValue(key, value)}`)];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/**
 * dotenv reads single- and back-quoted values literally (double quotes expand \n and do not
 * unescape \"), so pick a quote the value does not contain.
 */
function quoteEnvValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new SyncError(`${key}: a value with a line break cannot be written to an env file`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  for (const quote of ["'", '`']) if (!value.includes(quote)) return `${quote}${value}${quote}`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  throw new SyncError(`${key}: the value contains every quote character and cannot be written to an env file`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
}
