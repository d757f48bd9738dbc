import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';

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

function readIfPresent(file: string): Record<string, string> {
  try {
    return parseEnvFile(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/**
 * Effective settings, highest precedence first: the process environment, then `.env` (the user's),
 * then `.stack/stack.env` (written by `npm run stack -- up` for the local stack). The process
 * environment is not modified.
 */
export function loadSettings(home = projectHome(), env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const stackDir = env.STACK_DIR ?? path.join(home, '.stack');
  const merged: Record<string, string> = {
    ...readIfPresent(path.join(stackDir, 'stack.env')),
    ...readIfPresent(path.join(home, '.env')),
  };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) merged[key] = value;
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
  if (/[\r\n]/.test(value)) throw new Error(`${key}: a value with a line break cannot be written to an env file`);
  for (const quote of ["'", '`']) if (!value.includes(quote)) return `${quote}${value}${quote}`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  throw new Error(`${key}: the value contains every quote character and cannot be written to an env file`);
}
