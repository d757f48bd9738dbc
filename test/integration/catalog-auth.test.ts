import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestCatalog } from '../../src/iceberg/catalog';
import { UnauthorizedError } from '../../src/iceberg/errors';
import { stackSettings } from '../helpers/stack';

/**
 * Nessie runs here without authentication, so the catalog client's auth is exercised through a
 * gateway in front of the real catalog: an OAuth2 client-credentials token endpoint, and a bearer
 * check on every catalog call, which is then forwarded to Nessie.
 */
const settings = stackSettings();
const upstream = new URL(settings.ICEBERG_CATALOG_URI);
const clientId = 'sync-client';
const clientSecret = 'gateway-secret-4711';
const staticToken = 'static-token-abc';
let issued = 0;
const valid = new Set<string>([staticToken]);
let server: http.Server;
let uri: string;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    if (req.url === '/iceberg/v1/oauth/tokens' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const token = `issued-${++issued}`;
      valid.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 3600 }));
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !valid.has(token)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Not authorized","type":"NotAuthorizedException","code":401}}');
      return;
    }
    const forwarded = await fetch(`${upstream.origin}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: body || undefined });
    res.writeHead(forwarded.status, { 'content-type': 'application/json' }).end(await forwarded.text());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/iceberg`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('catalog authentication', () => {
  it('OAuth2 client credentials: fetches a token and uses it', async () => {
    const catalog = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE, auth: { kind: 'oauth2', clientId, clientSecret } });
    const before = issued;
    expect(Array.isArray(await catalog.listNamespaces())).toBe(true);
    await catalog.listNamespaces();
    expect(issued).toBe(before + 1); // cached, not one per call
  });

  it('fetches a new token when the catalog no longer accepts the old one', async () => {
    const catalog = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE, auth: { kind: 'oauth2', clientId, clientSecret } });
    await catalog.listNamespaces();
    valid.clear(); // the gateway revokes every token
    valid.add(staticToken);
    const before = issued;
    expect(Array.isArray(await catalog.listNamespaces())).toBe(true);
    expect(issued).toBe(before + 1);
    valid.add(staticToken);
  });

  it('a bearer token is sent as is', async () => {
    const catalog = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE, auth: { kind: 'token', token: staticToken } });
    expect(Array.isArray(await catalog.listNamespaces())).toBe(true);
  });

  it('refusals are typed, actionable, and never contain the secret', async () => {
    const wrongSecret = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE, auth: { kind: 'oauth2', clientId, clientSecret: 'not-the-secret-999' } });
    const e1 = await wrongSecret.listNamespaces().then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(e1).toBeInstanceOf(UnauthorizedError);
    expect(e1.message).toContain('ICEBERG_CLIENT_ID / ICEBERG_CLIENT_SECRET');
    expect(e1.message).toContain(clientId);
    expect(e1.message).not.toContain('not-the-secret-999');

    const noAuth = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE });
    const e2 = await noAuth.listNamespaces().then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(e2).toBeInstanceOf(UnauthorizedError);
    expect(e2.message).toMatch(/HTTP 401 .*Check ICEBERG_TOKEN/);

    const badToken = new RestCatalog({ uri, warehouse: settings.ICEBERG_WAREHOUSE, auth: { kind: 'token', token: 'forged-token-xyz' } });
    const e3 = await badToken.listNamespaces().then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(e3).toBeInstanceOf(UnauthorizedError);
    expect(e3.message).not.toContain('forged-token-xyz');
  });
});
