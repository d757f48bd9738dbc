/**
 * Why a connection failed, in words a person can act on: fetch reports only "fetch failed" and keeps
 * the reason (a host that does not resolve, a port nobody listens on) in its cause.
 */
export function connectionFailure(error: unknown, host?: string): string {
  const e = error as Error & { code?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return 'no answer within the time limit';
  if (e?.name === 'AbortError') return 'aborted';
  const cause = (e?.cause ?? e) as Error & { code?: string; errors?: (Error & { code?: string })[] };
  const code = cause?.code ?? cause?.errors?.[0]?.code ?? e?.code;
  const where = host ? ` ${host}` : '';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host${where} does not resolve (${code})`;
    case 'ECONNREFUSED':
      return `nothing listens at${where || ' that address'} (connection refused)`;
    case 'ECONNRESET':
      return `the connection${where ? ` to${where}` : ''} was reset`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection${where ? ` to${where}` : ''} within the time limit (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where.trim() || 'the host'} is unreachable (${code})`;
    default:
      if (code && /CERT|SSL|TLS/.test(code)) return `TLS failed${where ? ` with${where}` : ''}: ${cause.message} (${code})`;
      return cause?.message && cause !== e ? `${e.message}: ${cause.message}` : (e?.message ?? String(error));
  }
}

/** The first network error code (ENOTFOUND, ECONNREFUSED, ...) in an error's cause chain. */
export function networkCode(error: unknown): { code: string; host?: string } | undefined {
  for (let e = error as { code?: unknown; hostname?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return { code: e.code, host: typeof e.hostname === 'string' ? e.hostname : undefined };
  }
  return undefined;
}
