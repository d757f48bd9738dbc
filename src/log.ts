/**
 * What the sync steps log through: Temporal's activity logger on a worker (activities/index.ts binds
 * it), nothing elsewhere. src/ stays Temporal-free by depending on this shape only. Messages and
 * attributes never carry a secret: the Salesforce client scrubs what it reports.
 */
export interface Logger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
  debug(message: string, attrs?: Record<string, unknown>): void;
}

/** Logs nothing (scripts and tests that do not look). */
export const noLog: Logger = { info() {}, warn() {}, debug() {} };
