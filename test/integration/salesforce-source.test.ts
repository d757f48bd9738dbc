import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesforceAuthError } from '../../src/salesforce/auth';
import { SalesforceApiError, SalesforceClient } from '../../src/salesforce/client';
import { UnknownObjectError, cursorField, describeObject, syncableFields } from '../../src/salesforce/describe';
import { readRest } from '../../src/salesforce/rest-reader';
import { parseSalesforceSettings, salesforceEnv as E } from '../../src/salesforce/settings';
import { buildSoql } from '../../src/salesforce/soql';
import { datetimeMicros } from '../../src/salesforce/values';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const sim = new SalesforceSimulator({ rowCounts: { Account: 1234, Contact: 50 }, jwtCertificate: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
const U = SIM_DEFAULTS.user;
const C = SIM_DEFAULTS.client;

function client(env: Record<string, string>, options = {}) {
  return new SalesforceClient(parseSalesforceSettings({ [E.domain]: sim.url, ...env }), { backoffMs: 5, ...options });
}

beforeAll(async () => {
  await sim.start();
});
afterAll(() => sim.stop());

describe('Salesforce auth methods against the simulator', () => {
  const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-')), 'server.key');
  fs.writeFileSync(keyFile, privatePem);

  const methods: [string, () => Promise<Record<string, string>>][] = [
    ['SecurityToken', async () => ({ [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken })],
    ['OrganizationId', async () => ({ [E.userName]: U.username, [E.password]: U.password, [E.organizationId]: SIM_DEFAULTS.orgId })],
    [
      'ConsumerKeySecret',
      async () => ({ [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken, [E.consumerKey]: C.clientId, [E.consumerSecret]: C.clientSecret }),
    ],
    ['JwtBearer (key)', async () => ({ [E.userName]: U.username, [E.consumerKey]: C.clientId, [E.privateKey]: privatePem.replace(/\n/g, '\\n') })],
    ['JwtBearer (key file)', async () => ({ [E.userName]: U.username, [E.consumerKey]: C.clientId, [E.privateKeyFile]: keyFile })],
    ['ClientCredentials', async () => ({ [E.consumerKey]: C.clientId, [E.consumerSecret]: C.clientSecret })],
    [
      'RefreshToken',
      async () => {
        const r = await fetch(`${sim.url}/services/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'password', client_id: C.clientId, client_secret: C.clientSecret, username: U.username, password: U.password + U.securityToken }),
        });
        return { [E.refreshToken]: ((await r.json()) as { refresh_token: string }).refresh_token, [E.consumerKey]: C.clientId };
      },
    ],
    [
      'InstanceAuth',
      async () => {
        const session = await client({ [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }).login();
        return { [E.sessionId]: session.accessToken, [E.instanceUrl]: session.instanceUrl };
      },
    ],
  ];

  for (const [name, env] of methods) {
    it(`${name} logs in and describes Account`, async () => {
      const c = client(await env());
      expect(c.settings.auth.kind).toBe(name.split(' ')[0]);
      const d = await describeObject(c, 'Account');
      expect(d.fields.find((f) => f.name === 'AnnualRevenue')).toMatchObject({ type: 'currency', precision: 18, scale: 2 });
    });
  }

  it('refused credentials are non-retryable errors naming the method, never the secret', async () => {
    const cases: [Record<string, string>, RegExp, string][] = [
      [{ [E.userName]: U.username, [E.password]: 'wrong-pass-123', [E.securityToken]: U.securityToken }, /SecurityToken login of .* INVALID_LOGIN/, 'wrong-pass-123'],
      [{ [E.userName]: U.username, [E.password]: 'wrong-pass-456', [E.organizationId]: SIM_DEFAULTS.orgId }, /OrganizationId login .* INVALID_LOGIN/, 'wrong-pass-456'],
      [
        { [E.userName]: U.username, [E.password]: 'wrong-pass-789', [E.consumerKey]: C.clientId, [E.consumerSecret]: C.clientSecret },
        /ConsumerKeySecret login .* invalid_grant/,
        'wrong-pass-789',
      ],
      [{ [E.consumerKey]: C.clientId, [E.consumerSecret]: 'wrong-secret-000' }, /ClientCredentials login of client sim-consumer-key .* invalid_client/, 'wrong-secret-000'],
      [{ [E.refreshToken]: 'stale-refresh-token', [E.consumerKey]: C.clientId }, /RefreshToken login .* invalid_grant/, 'stale-refresh-token'],
    ];
    for (const [env, pattern, secret] of cases) {
      const error = await client(env)
        .login()
        .then(
          () => new Error('accepted'),
          (e: Error) => e,
        );
      expect(error).toBeInstanceOf(SalesforceAuthError);
      expect(error.message).toMatch(pattern);
      expect(error.message).not.toContain(secret);
    }
    const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const jwt = await client({ [E.userName]: U.username, [E.consumerKey]: C.clientId, [E.privateKey]: otherKey })
      .login()
      .then(
        () => new Error('accepted'),
        (e: Error) => e,
      );
    expect(jwt.message).toMatch(/JwtBearer login .* invalid_grant/);
  });

  it('re-authenticates transparently when the session expires', async () => {
    const c = client({ [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken });
    const first = await c.login();
    sim.expireSessions();
    await describeObject(c, 'Contact');
    expect((await c.login()).accessToken).not.toBe(first.accessToken);
  });

  it('a given session id that expired fails with a message saying what to do', async () => {
    const session = await client({ [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken }).login();
    const c = client({ [E.sessionId]: session.accessToken, [E.instanceUrl]: session.instanceUrl });
    sim.expireSessions();
    const error = await describeObject(c, 'Account').then(
      () => new Error('accepted'),
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(SalesforceApiError);
    expect(error.message).toMatch(/INVALID_SESSION_ID.*SESSION_ID has expired/);
    expect(error.message).not.toContain(session.accessToken);
  });
});

describe('describe, SOQL and the REST reader', () => {
  const env = { [E.userName]: U.username, [E.password]: U.password, [E.securityToken]: U.securityToken };

  it('reads exactly the org’s rows, page by page, values normalised', async () => {
    const c = client(env);
    const d = await describeObject(c, 'Account');
    const fields = syncableFields(d);
    expect(fields.some((f) => f.type === 'address' || f.type === 'base64')).toBe(false);
    expect(fields.some((f) => f.name === 'BillingCity')).toBe(true);
    const soql = buildSoql(
      d,
      fields.map((f) => f.name),
      { window: { field: cursorField(d)! } },
    );
    const pages = [];
    for await (const page of readRest({ client: c, soql, fields, batchSize: 500, cursorField: 'SystemModstamp' })) pages.push(page);
    expect(pages.map((p) => p.rows.length)).toEqual([500, 500, 234]);
    const rows = pages.flatMap((p) => p.rows);
    const o = sim.org.object('Account')!;
    const expected = [...sim.org.records(o, false)].sort(
      (a, b) => Date.parse(String(a.SystemModstamp)) - Date.parse(String(b.SystemModstamp)) || String(a.Id).localeCompare(String(b.Id)),
    );
    expect(rows.map((r) => r[fields.findIndex((f) => f.name === 'Id')])).toEqual(expected.map((r) => r.Id));
    const at = (name: string) => fields.findIndex((f) => f.name === name);
    const sample = expected[17]!;
    const row = rows[17]!;
    expect(row[at('SystemModstamp')]).toBe(Date.parse(String(sample.SystemModstamp)) * 1000);
    expect(row[at('AnnualRevenue')]).toBe(sample.AnnualRevenue === null ? null : String(sample.AnnualRevenue));
    expect(row[at('CustomerSince__c')]).toBe(sample.CustomerSince__c);
    expect(row[at('IsActive__c')]).toBe(sample.IsActive__c);
    expect(pages[0]!.last).toEqual({ id: expected[499]!.Id, cursor: expect.stringMatching(/\+0000$/) });
  });

  it('incremental window, resume after the last row, and deleted rows via queryAll', async () => {
    const c = client(env);
    const d = await describeObject(c, 'Contact');
    const fields = syncableFields(d).filter((f) => ['Id', 'SystemModstamp', 'LastName', 'IsDeleted'].includes(f.name));
    const names = fields.map((f) => f.name);
    const o = sim.org.object('Contact')!;
    const all = [...sim.org.records(o, false)];
    const upTo = new Date(Math.max(...all.map((r) => Date.parse(String(r.SystemModstamp))))).toISOString();
    const read = async (soql: string, includeDeleted = false) => {
      const out: unknown[][] = [];
      for await (const p of readRest({ client: c, soql, fields, includeDeleted })) out.push(...p.rows);
      return out;
    };
    // Changes after the window's upper bound are left for the next sync.
    const victim = String(all[3]!.Id);
    const changed = String(all[7]!.Id);
    sim.org.update('Contact', changed, { LastName: 'Changed' });
    sim.org.delete('Contact', victim);
    const first = await read(buildSoql(d, names, { window: { field: 'SystemModstamp', upTo } }));
    expect(first).toHaveLength(48); // 50, less the deleted row and the one changed after the window
    expect(first.map((r) => r[0])).not.toContain(changed);
    // Next window: only the change; deletes come through queryAll.
    const next = await read(buildSoql(d, names, { window: { field: 'SystemModstamp', after: upTo } }));
    expect(next.map((r) => [r[0], r[names.indexOf('LastName')]])).toEqual([[changed, 'Changed']]);
    const deleted = await read(buildSoql(d, names, { window: { field: 'SystemModstamp', after: upTo }, deletedOnly: true }), true);
    expect(deleted.map((r) => [r[0], r[names.indexOf('IsDeleted')]])).toEqual([[victim, true]]);
    // Resume after a row: the rest, nothing twice.
    const resumeAt = first[20]!;
    const rest = await read(
      buildSoql(d, names, {
        window: { field: 'SystemModstamp', upTo },
        resumeAfter: { id: String(resumeAt[0]), cursor: new Date(Number(resumeAt[names.indexOf('SystemModstamp')]) / 1000).toISOString() },
      }),
    );
    expect(rest.map((r) => r[0])).toEqual(first.slice(21).map((r) => r[0]));
    // Without a window (replace mode) a read is ordered by Id and resumes after an Id.
    const byId = await read(buildSoql(d, names));
    expect(byId.map((r) => String(r[0]))).toEqual(byId.map((r) => String(r[0])).sort((a, b) => (a < b ? -1 : 1)));
    const afterId = await read(buildSoql(d, names, { resumeAfter: { id: String(byId[30]![0]) } }));
    expect(afterId.map((r) => r[0])).toEqual(byId.slice(31).map((r) => r[0]));
    expect(datetimeMicros('2026-01-01T00:00:00.123+0000')).toBe(Date.UTC(2026, 0, 1) * 1000 + 123000);
  });

  it('retries limits and 503s, and gives up with a retryable error', async () => {
    const c = client(env);
    sim.addFault({ kind: 'unavailable', path: '/sobjects/Account/describe', count: 2 });
    sim.addFault({ kind: 'request-limit', path: '/sobjects/Account/describe', count: 1 });
    await expect(describeObject(c, 'Account')).resolves.toMatchObject({ name: 'Account' });
    const impatient = client(env, { maxAttempts: 2 });
    sim.addFault({ kind: 'request-limit', path: '/sobjects/Contact/describe', count: 5 });
    const error = await describeObject(impatient, 'Contact').then(
      () => new Error('accepted'),
      (e: Error) => e,
    );
    expect(error).toMatchObject({ errorCode: 'REQUEST_LIMIT_EXCEEDED', retryable: true });
    sim.addFault({ kind: 'request-limit', path: '/sobjects/Contact/describe', count: -10 }); // clear
    expect(c.usage?.max).toBe(15000);
  });

  it('unknown objects and fields give clear errors; settings cannot inject SOQL', async () => {
    const c = client(env);
    await expect(describeObject(c, 'Acount')).rejects.toThrow(UnknownObjectError);
    await expect(describeObject(c, 'Account; DELETE')).rejects.toThrow(/no object named Account; DELETE/);
    const d = await describeObject(c, 'Account');
    expect(() => buildSoql(d, ['Id', 'Name FROM User --'])).toThrow(/Account has no field Name FROM User --/);
    expect(() => buildSoql(d, ['Id'], { window: { field: 'SystemModstamp' }, resumeAfter: { cursor: '2026-01-01T00:00:00Z', id: "x' OR Name != '" } })).toThrow(
      /invalid record id/,
    );
  });
});
