import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpRequest } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestCatalog, StorageCredential } from '../../src/iceberg/catalog';
import { VendedCredentials, credentialsExpiry, storageAccessMode, tableStorageConfig } from '../../src/iceberg/credentials';
import { RemoteS3Signer, SignerRefusedError, signerUrl } from '../../src/storage/remote-signer';
import { isExpiredCredentialsError } from '../../src/storage/s3';

const creds = (n: number, expiresAt: number): StorageCredential[] => [
  { prefix: 's3://b/', config: { 's3.access-key-id': 'wide', 's3.secret-access-key': 'x' } },
  {
    prefix: 's3://b/ns/t',
    config: { 's3.access-key-id': `key-${n}`, 's3.secret-access-key': `secret-${n}`, 's3.session-token': `tok-${n}`, 's3.session-token-expires-at-ms': String(expiresAt) },
  },
];

/** A catalog that vends credential set n+1 on each ask, through loadCredentials or a table reload. */
function vendingCatalog(opts: { loadCredentials: boolean; lifetimeMs: number }) {
  const calls: string[] = [];
  let n = 1;
  const catalog = {
    properties: {},
    servesLoadCredentials: async () => opts.loadCredentials,
    loadCredentials: async () => {
      calls.push('loadCredentials');
      return creds(++n, Date.now() + opts.lifetimeMs);
    },
    loadTable: async () => {
      calls.push('loadTable');
      return { metadata: { location: 's3://b/ns/t' }, 'storage-credentials': creds(++n, Date.now() + opts.lifetimeMs) };
    },
  } as unknown as RestCatalog;
  return { catalog, calls };
}

describe('vended credentials (unit)', () => {
  it('takes the longest storage-credentials prefix of the table location, and reads the expiry in either form', () => {
    const config = tableStorageConfig({ 's3.endpoint': 'http://e' }, 's3://b/ns/t', {}, creds(1, 1_700_000_000_000));
    expect(config['s3.access-key-id']).toBe('key-1');
    expect(storageAccessMode(config)).toBe('vended');
    expect(credentialsExpiry(config)).toBe(1_700_000_000_000);
    expect(credentialsExpiry({ 'expiration-time': '1700000000' })).toBe(1_700_000_000_000);
    expect(credentialsExpiry({ 'expiration-time': '2026-01-02T03:04:05Z' })).toBe(Date.parse('2026-01-02T03:04:05Z'));
    expect(storageAccessMode({ 's3.remote-signing-enabled': 'true', 's3.signer.uri': 'http://c' })).toBe('signed');
    expect(storageAccessMode({})).toBe('static');
  });

  it.each([true, false])('renews through %s before they expire, once for concurrent requests, not while fresh', async (loadCredentials) => {
    const { catalog, calls } = vendingCatalog({ loadCredentials, lifetimeMs: 3_600_000 });
    const first = tableStorageConfig({}, 's3://b/ns/t', {}, creds(1, Date.now() + 3_600_000));
    const fresh = new VendedCredentials(catalog, { namespace: ['ns'], name: 't', location: 's3://b/ns/t' }, first, 300_000);
    expect((await fresh.provider()).accessKeyId).toBe('key-1');
    expect(calls).toEqual([]);

    // Within the margin of their expiry: renewed, by one fetch for all requests waiting.
    const near = tableStorageConfig({}, 's3://b/ns/t', {}, creds(1, Date.now() + 60_000));
    const renewing = new VendedCredentials(catalog, { namespace: ['ns'], name: 't', location: 's3://b/ns/t' }, near, 300_000);
    const got = await Promise.all([renewing.provider(), renewing.provider(), renewing.provider()]);
    expect(new Set(got.map((g) => g.accessKeyId)).size).toBe(1);
    expect(got[0]!.accessKeyId).toMatch(/^key-\d+$/);
    expect(got[0]!.accessKeyId).not.toBe('key-1');
    expect(calls).toEqual([loadCredentials ? 'loadCredentials' : 'loadTable']);
    expect(renewing.renewals).toBe(1);
  });

  it('a catalog that keeps answering credentials inside the margin is not asked on every request', async () => {
    const { catalog, calls } = vendingCatalog({ loadCredentials: true, lifetimeMs: 100_000 });
    const vended = new VendedCredentials(
      catalog,
      { namespace: ['ns'], name: 't', location: 's3://b/ns/t' },
      tableStorageConfig({}, 's3://b/ns/t', {}, creds(1, Date.now() + 100_000)),
      300_000,
    );
    for (let i = 0; i < 20; i++) await vended.provider();
    expect(calls).toHaveLength(1);
  });

  it('knows the S3 errors of expired or unknown credentials from a lack of permission', () => {
    expect(isExpiredCredentialsError(Object.assign(new Error('x'), { name: 'ExpiredToken' }))).toBe(true);
    expect(isExpiredCredentialsError(Object.assign(new Error('x'), { name: 'InvalidAccessKeyId' }))).toBe(true);
    expect(isExpiredCredentialsError(Object.assign(new Error('x'), { name: 'AccessDenied' }))).toBe(false);
  });
});

describe('remote signing (unit, a signer endpoint of the REST spec)', () => {
  let server: http.Server;
  let base: string;
  const seen: { authorization?: string; body: { region: string; uri: string; method: string; headers: Record<string, string[]> } }[] = [];
  let refuse = false;
  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString());
      seen.push({ authorization: req.headers.authorization, body });
      if (refuse) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"message":"not allowed to write there","type":"ForbiddenException","code":403}}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ uri: body.uri, headers: { ...body.headers, Authorization: ['AWS4-HMAC-SHA256 Credential=signer/...'], 'X-Amz-Date': ['20260101T000000Z'] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/iceberg/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts region, URI, method and headers with the catalog token, and sends what the signer answers', async () => {
    expect(signerUrl('http://c/iceberg/', 'v1/main/s3-sign/x')).toBe('http://c/iceberg/v1/main/s3-sign/x');
    expect(signerUrl('http://c/iceberg', 'http://d/sign')).toBe('http://d/sign');
    const signer = new RemoteS3Signer({ uri: base, endpoint: 'v1/s3-sign', region: 'us-east-1', authorization: async () => 'Bearer cat-token' });
    const request: HttpRequest = {
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9000,
      method: 'PUT',
      path: '/b/ns/t/data/f.parquet',
      query: { partNumber: '1', uploadId: 'u' },
      headers: { 'content-type': 'x' },
    };
    const signed = await signer.sign(request);
    expect(seen.at(-1)!.authorization).toBe('Bearer cat-token');
    expect(seen.at(-1)!.body).toMatchObject({ region: 'us-east-1', method: 'PUT', uri: 'http://127.0.0.1:9000/b/ns/t/data/f.parquet?partNumber=1&uploadId=u' });
    expect(seen.at(-1)!.body.headers.host).toEqual(['127.0.0.1:9000']);
    expect(signed.headers.Authorization).toBe('AWS4-HMAC-SHA256 Credential=signer/...');
    expect(signed.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('a refusal is named as the signer refusing', async () => {
    refuse = true;
    const signer = new RemoteS3Signer({ uri: base, endpoint: 'v1/s3-sign', region: 'us-east-1', authorization: async () => undefined });
    const error = await signer.sign({ protocol: 'http:', hostname: 'h', method: 'GET', path: '/b/k', query: {}, headers: {} }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(SignerRefusedError);
    expect((error as Error).message).toMatch(/^The catalog's S3 request signer refused to sign GET http:\/\/h\/b\/k \(HTTP 403: not allowed to write there\)$/);
    refuse = false;
  });
});
