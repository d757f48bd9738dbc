import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsProblems, unknownSettingProblems } from '../../src/settings/settings';
import { temporalArea, temporalSettingsProblems } from '../../src/config/temporal-settings';
import { temporalConnection } from '../../worker/temporal-connection';
import { makeCertificates, type TestCertificates } from '../helpers/tls-proxy';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const API_KEY = 'tmprl-api-key-secret-4711';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-conn-'));
/** No config file unless a test writes one: HOME points at an empty folder. */
const base = { HOME: dir };
let certs: TestCertificates;

beforeAll(() => {
  certs = makeCertificates('temporal.test');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
});

describe('temporalConnection: the options every connection is built from', () => {
  it('defaults to the local dev server without TLS', () => {
    const c = temporalConnection(base);
    expect(c).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', tls: false, taskQueue: 'salesforce-sync' });
    expect(c.options.tls).toBeFalsy();
    expect(c.options.apiKey).toBeUndefined();
  });

  it('an API key turns TLS on by default, as Temporal does, and can be turned off explicitly', () => {
    const c = temporalConnection({ ...base, TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme.a1b2c', TEMPORAL_API_KEY: API_KEY });
    expect(c.options).toMatchObject({ address: 'acme.a1b2c.tmprl.cloud:7233', apiKey: API_KEY, tls: true });
    expect(c).toMatchObject({ namespace: 'acme.a1b2c', apiKey: 'TEMPORAL_API_KEY', tls: { serverCa: "the system's trusted CAs" } });
    expect(temporalConnection({ ...base, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }).options.tls).toBe(false);
  });

  it('reads the CA, the client pair and the server name; PEM text may use \\n for line breaks', () => {
    const keyPem = fs.readFileSync(path.join(certs.dir, 'server.key'), 'utf8');
    const c = temporalConnection({
      ...base,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caPath,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      TEMPORAL_TLS_CLIENT_CERT_DATA: certs.serverCert.replace(/\n/g, '\\n'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(certs.dir, 'server.key'),
    });
    const tls = c.options.tls as { serverRootCACertificate: Uint8Array; serverNameOverride: string; clientCertPair: { crt: Uint8Array; key: Uint8Array } };
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe(fs.readFileSync(certs.caPath, 'utf8'));
    expect(tls.serverNameOverride).toBe('temporal.test');
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe(certs.serverCert);
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(keyPem);
  });

  it('takes a profile of the config file, with the variables over it', () => {
    const file = path.join(dir, 'profiles.toml');
    fs.writeFileSync(
      file,
      `[profile.cloud]\naddress = "acme.a1b2c.tmprl.cloud:7233"\nnamespace = "acme.a1b2c"\napi_key = "${API_KEY}"\n[profile.cloud.grpc_meta]\nx-tenant = "acme"\n`,
    );
    const c = temporalConnection({ ...base, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other.a1b2c' });
    expect(c).toMatchObject({ address: 'acme.a1b2c.tmprl.cloud:7233', namespace: 'other.a1b2c', apiKey: `api_key of profile cloud in ${file}`, profile: { name: 'cloud', file } });
    expect(c.options).toMatchObject({ apiKey: API_KEY, tls: true, metadata: { 'x-tenant': 'acme' } });
    // The default config file, found as Temporal finds it.
    fs.mkdirSync(path.join(dir, '.config', 'temporalio'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "temporal.internal:7233"\n');
    try {
      expect(temporalConnection(base)).toMatchObject({ address: 'temporal.internal:7233', profile: { name: 'default' } });
    } finally {
      fs.rmSync(path.join(dir, '.config'), { recursive: true });
    }
  });

  it.each([
    ['a missing CA file', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nowhere/ca.pem' }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read /nowhere/ca.pem (ENOENT)'],
    ['a CA file that is no PEM', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '<dir>/named.toml' }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH: <dir>/named.toml is not PEM'],
    ['a missing config file', { TEMPORAL_CONFIG_FILE: '/nowhere/temporal.toml' }, 'TEMPORAL_CONFIG_FILE: there is no file at /nowhere/temporal.toml'],
    ['a profile the file does not have', { TEMPORAL_CONFIG_FILE: '<dir>/named.toml', TEMPORAL_PROFILE: 'prod' }, 'TEMPORAL_PROFILE: <dir>/named.toml has no profile prod'],
    [
      'a profile without a config file',
      { TEMPORAL_PROFILE: 'prod' },
      'TEMPORAL_PROFILE: there is no Temporal config file at <dir>/.config/temporalio/temporal.toml to take profile prod from',
    ],
    ['a bad address in the profile', { TEMPORAL_CONFIG_FILE: '<dir>/named.toml', TEMPORAL_PROFILE: 'bad' }, 'address of profile bad in <dir>/named.toml: must be host:port'],
  ])('%s is named', (_what, changes, expected) => {
    fs.writeFileSync(path.join(dir, 'named.toml'), '[profile.bad]\naddress = "https://temporal.internal"\n');
    const env = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.replace('<dir>', dir)]));
    expect(() => temporalConnection({ ...base, ...env })).toThrow(expected.replace('<dir>', dir));
  });

  it('a config file that is not TOML is reported by line, without quoting it (it may hold an API key)', () => {
    const file = path.join(dir, 'broken.toml');
    fs.writeFileSync(file, `[profile.default]\napi_key = "${API_KEY}\naddress = "x:1"\n`);
    let message = '';
    try {
      temporalConnection({ ...base, TEMPORAL_CONFIG_FILE: file });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`^${file} \\(Temporal config file\\): not valid TOML at line 2`));
    expect(message).not.toContain(API_KEY);
  });
});

describe('Temporal settings: checks and typos', () => {
  it('are all in the settings reference (docs/settings.md)', () => {
    const readme = fs.readFileSync(path.join(root, 'docs', 'settings.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `TEMPORAL_'));
    for (const name of Object.keys(temporalArea.specs)) expect([name, rows.some((r) => r.split(' | ')[0]!.includes(`\`${name}\``))]).toEqual([name, true]);
  });

  it.each([
    [
      'a file and its content',
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_DATA: '-----BEGIN CERTIFICATE-----\\nx' },
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_CA_CERT_DATA are both set',
    ],
    ['a client certificate without its key', { TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }, 'a client certificate (mTLS) needs both TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA)'],
    ['TLS settings with TLS off', { TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'x' }, 'TEMPORAL_TLS is false, so TEMPORAL_TLS_SERVER_NAME would do nothing'],
    ['a spelling of true Temporal would read as false', { TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS: must be true or false (Temporal reads only true, false, 1 and 0)'],
    ['host verification off', { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: is not supported by Temporal's TypeScript SDK"],
    [
      'key data that is no PEM',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem', TEMPORAL_TLS_CLIENT_KEY_DATA: 'tmprl-key-secret-4711' },
      'TEMPORAL_TLS_CLIENT_KEY_DATA: must be a private key in PEM',
    ],
    ["the CLI's older name", { TEMPORAL_TLS_CA: '/ca.pem' }, "TEMPORAL_TLS_CA is the temporal CLI's older name of TEMPORAL_TLS_SERVER_CA_CERT_PATH"],
  ])('%s', (_what, env, expected) => {
    const problems = temporalSettingsProblems(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
    expect(problems[0]).not.toContain('secret-4711');
  });

  it("typos of TEMPORAL_ settings are reported; Temporal's own names and other tools' are not", () => {
    expect(unknownSettingProblems({ TEMPORAL_ADRESS: 'x:1', TEMPORAL_TLS_CA_CERT_PATH: '/ca.pem', TEMPORAL_APIKEY: API_KEY })).toEqual([
      expect.stringContaining('TEMPORAL_ADRESS is not a setting (a typo of TEMPORAL_ADDRESS?)'),
      expect.stringContaining('TEMPORAL_APIKEY is not a setting (a typo of TEMPORAL_API_KEY?)'),
      expect.stringContaining('TEMPORAL_TLS_CA_CERT_PATH is not a setting (a typo of TEMPORAL_TLS_SERVER_CA_CERT_PATH?)'),
    ]);
    const theirs = Object.fromEntries(
      [
        ...Object.keys(temporalArea.specs),
        'TEMPORAL_CODEC_ENDPOINT',
        'TEMPORAL_CODEC_AUTH',
        'TEMPORAL_ENV',
        'TEMPORAL_GRPC_META_X_TENANT',
        'TEMPORAL_IMAGE',
        'TEMPORAL_TLS_CERT',
      ].map((n) => [n, 'x']),
    );
    expect(unknownSettingProblems(theirs)).toEqual([]);
  });

  it('npm run env hides the API key and the client key; the problems it lists name them without their values', async () => {
    const keyData = '-----BEGIN PRIVATE KEY-----\\ntmprl-key-secret-4711\\n-----END PRIVATE KEY-----';
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'env.ts'), 'temporal'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: dir, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS_CLIENT_KEY_DATA: keyData, TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' },
    });
    expect(stdout).toContain('TEMPORAL_API_KEY\n');
    expect(stdout).toMatch(/TEMPORAL_API_KEY\n.*\n\s+now: set \(\d+ characters, hidden\)/);
    expect(stdout).not.toContain('secret-4711');
    const all = settingsProblems({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'maybe', TEMPORAL_TLS_CLIENT_KEY_DATA: 'tmprl-key-secret-4711' }).join('\n');
    expect(all).toContain('TEMPORAL_TLS_CLIENT_KEY_DATA');
    expect(all).not.toContain('secret-4711');
  });
});

/**
 * What reaches the server: an HTTP/2 server of the test's own (TLS with the test CA) records the
 * headers of the first gRPC call of each kind of connection, then answers it with an error.
 */
describe('the API key on the wire', () => {
  let server: http2.Http2SecureServer;
  let address: string;
  const seen: http2.IncomingHttpHeaders[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();

  beforeAll(async () => {
    server = http2.createSecureServer({ key: certs.serverKey, cert: certs.serverCert, ALPNProtocols: ['h2'] }, (req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'test server' }).end();
    });
    server.on('session', (s) => (sessions.add(s), s.once('close', () => sessions.delete(s))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('goes as authorization: Bearer, over TLS, from the client and from the worker connection', async () => {
    const c = temporalConnection({
      ...base,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caPath,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    const client = await Connection.connect({ ...c.options, connectTimeout: 5000 }).catch((e: Error) => e);
    const byClient = seen.splice(0);
    const worker = await NativeConnection.connect(c.options).catch((e: Error) => e);
    for (const outcome of [client, worker]) if (!(outcome instanceof Error)) await outcome.close();
    // Each kind of connection made at least one call, every one with the key (they retry on errors).
    for (const calls of [byClient, seen]) {
      expect(calls.length).toBeGreaterThan(0);
      expect(new Set(calls.map((h) => h.authorization))).toEqual(new Set([`Bearer ${API_KEY}`]));
    }
    // Connecting failed (the test server refuses every call); the error does not carry the key.
    expect(worker).toBeInstanceOf(Error);
    expect(String((worker as Error).message)).not.toContain(API_KEY);
  });
});
