import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the proxy saw: what a hook decides on. */
export interface ProxiedRequest {
  method: string;
  url: string;
  body: Buffer;
  /** A data commit of a sync (it carries a sync run id). */
  isDataCommit: boolean;
}

export interface CatalogProxyHooks {
  /** Runs before a request is forwarded; an answer returned here is sent instead of forwarding. */
  before?: (req: ProxiedRequest) => Promise<{ status: number; body: unknown } | undefined>;
  /**
   * Told the catalog's status of a forwarded request; awaited before the answer is passed on (a
   * test can kill the client after the catalog accepted a commit and before it hears so).
   */
  after?: (req: ProxiedRequest, status: number) => void | Promise<void>;
  /**
   * Makes the proxy an OAuth2 gateway: it grants client-credentials tokens (`<path>/v1/oauth/tokens`,
   * any client) that expire after `expiresInSeconds`, and answers 401 to a catalog call without a
   * token it granted that is still valid. `revokeTokens()` makes every token granted so far invalid.
   */
  oauth?: { expiresInSeconds: number };
  /** Rewrites the catalog's answer to a forwarded request before it is passed on (e.g. the expiry of vended credentials). */
  rewrite?: (req: ProxiedRequest, text: string) => string;
}

/** The OAuth2 gateway's view: tokens granted, and calls refused for want of a valid one. */
export interface OAuthGateway {
  granted: number;
  refused: { method: string; url: string }[];
  revokeTokens(): void;
}

/**
 * A pass-through in front of the real catalog, for fault tests: hooks can hold a request (run
 * something while it is in flight), refuse it, or see how the catalog answered.
 */
export async function startCatalogProxy(catalogUri: string, hooks: CatalogProxyHooks): Promise<{ uri: string; close: () => Promise<void>; oauth: OAuthGateway }> {
  const upstream = new URL(catalogUri);
  const hopByHop = ['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive'];
  const tokens = new Map<string, number>();
  const oauth: OAuthGateway = { granted: 0, refused: [], revokeTokens: () => tokens.clear() };
  const tokenPath = `${upstream.pathname.replace(/\/+$/, '')}/v1/oauth/tokens`;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body, isDataCommit: req.method === 'POST' && body.includes('salesforce.sync-run-id') };
    if (hooks.oauth && seen.url === tokenPath && seen.method === 'POST') {
      const token = `token-${++oauth.granted}-${Math.random().toString(36).slice(2)}`;
      tokens.set(token, Date.now() + hooks.oauth.expiresInSeconds * 1000);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: hooks.oauth.expiresInSeconds }));
      return;
    }
    // The hook first: it may revoke the tokens this very request carries.
    const answer = await hooks.before?.(seen);
    if (answer) {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    if (hooks.oauth) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const expiresAt = token === undefined ? undefined : tokens.get(token);
      if (expiresAt === undefined || Date.now() >= expiresAt) {
        oauth.refused.push({ method: seen.method, url: seen.url });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Not authorized: no valid token","type":"NotAuthorizedException","code":401}}');
        return;
      }
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !hopByHop.includes(k))) as Record<string, string>;
    const forwarded = await fetch(`${upstream.origin}${seen.url}`, { method: seen.method, headers, body: body.length ? body : undefined });
    const answered = await forwarded.text();
    const text = hooks.rewrite ? hooks.rewrite(seen, answered) : answered;
    await hooks.after?.(seen, forwarded.status);
    if (!res.destroyed) res.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    oauth,
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
