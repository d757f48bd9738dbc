import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerProcess } from '../../scripts/lib/worker-process';
import type { CheckResult } from '../../src/preflight/checks';
import { salesforceEnv as E } from '../../src/salesforce/settings';
import { preflight } from '../../worker/preflight';
import { stackSettings, uniqueName } from '../helpers/stack';
import { startCatalogProxy } from '../helpers/catalog-proxy';
import { RestCatalog } from '../../src/iceberg/catalog';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';

/**
 * The preflight against the real stack and the Salesforce simulator: the good case, then one
 * fault at a time, each failing its check with a message that names what to fix (the time each
 * took is printed; the assertions are on the results). And a worker whose preflight fails exits
 * without polling.
 */
const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const settings = stackSettings();
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const sim = new SalesforceSimulator({ rowCounts: { Account: 10 }, jwtCertificate: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
const namespace = uniqueName('preflight');
let env: Record<string, string>;
let closedPort: number;
let client: Client;
const times: [string, string, number][] = [];

/** A catalog gateway: Nessie behind it, with its advertised warehouse location rewritten to a bucket that does not exist. */
let gateway: http.Server;
let gatewayUri: string;
const missingBucket = `missing-${crypto.randomBytes(4).toString('hex')}`;

/** A port nobody listens on (taken, then given back). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  await sim.start();
  env = { ...settings, ...sim.settingsEnv(), SYNC_NAMESPACE: namespace };
  closedPort = await freePort();
  const upstream = new URL(settings.ICEBERG_CATALOG_URI);
  gateway = http.createServer(async (req, res) => {
    const forwarded = await fetch(`${upstream.origin}${req.url}`, { method: req.method, headers: { accept: 'application/json' } });
    let text = await forwarded.text();
    if (req.url?.includes('/v1/config')) {
      const config = JSON.parse(text) as { defaults?: Record<string, string>; overrides?: Record<string, string> };
      for (const props of [config.defaults, config.overrides]) if (props?.warehouse) props.warehouse = `s3://${missingBucket}/`;
      text = JSON.stringify(config);
    }
    res.writeHead(forwarded.status, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  gatewayUri = `http://127.0.0.1:${(gateway.address() as net.AddressInfo).port}${upstream.pathname}`;
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
});

afterAll(async () => {
  console.log(`preflight: time to the result of each case\n${times.map(([what, check, ms]) => `  ${what.padEnd(48)} ${check.padEnd(20)} ${ms} ms`).join('\n')}`);
  await client?.connection.close();
  await new Promise<void>((r) => gateway.close(() => r()));
  await sim.stop();
});

/** Runs every check with `changes` over the good settings; returns them by name, recording the time of `check`. */
async function checks(what: string, changes: Record<string, string | undefined>, check?: string): Promise<Record<string, CheckResult>> {
  const started = Date.now();
  const merged = { ...env, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete merged[k];
  const results = await preflight(merged);
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  times.push([what, check ?? 'all', check ? byName[check]!.ms : Date.now() - started]);
  return byName;
}

/** Only `name` failed; the rest passed or were skipped because they needed it. */
function onlyFailure(results: Record<string, CheckResult>, name: string): CheckResult {
  const failed = Object.values(results).filter((r) => r.status === 'problem');
  expect(failed.map((r) => r.name)).toEqual([name]);
  return results[name]!;
}

describe('preflight against the stack', () => {
  it('the good case: every check passes', async () => {
    const r = await checks('good settings', {});
    expect(Object.values(r).map((x) => [x.name, x.status])).toEqual([
      ['settings', 'ok'],
      ['salesforce-login', 'ok'],
      ['salesforce-describe', 'ok'],
      ['catalog', 'ok'],
      ['warehouse', 'ok'],
      ['namespace', 'ok'],
      ['storage', 'ok'],
      ['duckdb', 'skipped'],
      ['temporal', 'ok'],
    ]);
    expect(r.catalog!.message).toContain(`for warehouse ${settings.ICEBERG_WAREHOUSE}`);
    expect(r.warehouse!.message).toMatch(new RegExp(`^tables go under s3://${settings.S3_BUCKET}/? \\(in S3_BUCKET ${settings.S3_BUCKET}\\)$`));
    expect(r.namespace!.message).toBe(`${namespace} does not exist yet: the first sync creates it`);
    expect(r.storage!.message).toMatch(
      new RegExp(`^storage access static keys: wrote, read and deleted s3://${settings.S3_BUCKET}/_sf_iceberg_preflight/[0-9a-f-]+\\.txt at ${settings.S3_ENDPOINT}$`),
    );
    expect(r.temporal!.message).toBe(`${settings.TEMPORAL_ADDRESS}, namespace ${settings.TEMPORAL_NAMESPACE}; task queue salesforce-sync`);
  });

  it('vended credentials and remote signing: the storage check says which and writes with what the catalog gives, with no S3 key set', async () => {
    for (const [mode, words] of [
      ['vended', 'vended by the catalog'],
      ['signed', 'remote-signed by the catalog'],
    ] as const) {
      const ns = uniqueName('preflight');
      await new RestCatalog({ uri: settings.ICEBERG_CATALOG_URI, warehouse: mode }).ensureNamespace([ns]);
      const noKeys = { ICEBERG_WAREHOUSE: mode, S3_BUCKET: mode, S3_ACCESS_KEY_ID: undefined, S3_SECRET_ACCESS_KEY: undefined, SYNC_NAMESPACE: ns };
      const r = await checks(`${mode}: storage`, noKeys, 'storage');
      expect(Object.values(r).filter((x) => x.status === 'problem')).toEqual([]);
      expect(r.storage!.message).toMatch(
        new RegExp(
          `^storage access ${words} \\(asked for a staged \\(uncommitted\\) table in ${ns}\\): wrote, read and deleted s3://${mode}/${ns}/_sf_iceberg_preflight_[0-9a-f]+_[0-9a-f-]+/_sf_iceberg_preflight/[0-9a-f-]+\\.txt at `,
        ),
      );
    }
  });

  it('a vended credential that cannot write and a signer that refuses are named as such', async () => {
    // A gateway moves the table's location out of what the catalog's credentials and signer cover
    // (s3://<bucket>/elsewhere_<namespace>/...: Nessie's session policy also allows
    // <bucket>/*/<namespace>/<table>/, Iceberg's object-storage layout).
    const moved = await startCatalogProxy(settings.ICEBERG_CATALOG_URI, {
      rewrite: (_req, text) => text.replace(/("location"\s*:\s*"s3:\/\/(?:vended|signed)\/)/g, '$1elsewhere_'),
    });
    try {
      for (const mode of ['vended', 'signed'] as const) {
        const ns = uniqueName('preflight');
        await new RestCatalog({ uri: settings.ICEBERG_CATALOG_URI, warehouse: mode }).ensureNamespace([ns]);
        const changes = {
          ICEBERG_CATALOG_URI: moved.uri,
          ICEBERG_WAREHOUSE: mode,
          S3_BUCKET: mode,
          S3_ACCESS_KEY_ID: undefined,
          S3_SECRET_ACCESS_KEY: undefined,
          SYNC_NAMESPACE: ns,
        };
        const r = onlyFailure(await checks(`${mode}: refused`, changes, 'storage'), 'storage');
        if (mode === 'vended') {
          expect(r.message).toMatch(
            new RegExp(
              `^vended credentials: the credentials the catalog vended for a staged \\(uncommitted\\) table in ${ns} cannot write, read or delete s3://vended/elsewhere_\\S+ \\(AccessDenied\\)$`,
            ),
          );
          expect(r.fix).toBe("the catalog's storage role or session policy must allow writing, reading and deleting under the table's location");
        } else {
          expect(r.message).toMatch(
            /^remote signing: The catalog's S3 request signer refused to sign PUT http:\/\/\S+\/signed\/elsewhere_\S+ \(HTTP 403: URI not allowed for signing: /,
          );
        }
      }
    } finally {
      await moved.close();
    }
  });

  it('a catalog URI nobody listens on', async () => {
    const r = onlyFailure(await checks('catalog port nobody listens on', { ICEBERG_CATALOG_URI: `http://127.0.0.1:${closedPort}/iceberg` }, 'catalog'), 'catalog');
    expect(r.message).toBe(
      `Could not read the catalog configuration: the catalog at http://127.0.0.1:${closedPort}/iceberg is unreachable: nothing listens at 127.0.0.1:${closedPort} (connection refused).`,
    );
    expect(r.fix).toBe('check ICEBERG_CATALOG_URI: is the catalog running, and is this its address?');
  });

  it('a wrong ICEBERG_WAREHOUSE', async () => {
    const r = onlyFailure(await checks('wrong ICEBERG_WAREHOUSE', { ICEBERG_WAREHOUSE: 'no_such_warehouse' }, 'catalog'), 'catalog');
    expect(r.message).toMatch(
      new RegExp(
        `^The catalog at ${settings.ICEBERG_CATALOG_URI} does not know warehouse "no_such_warehouse" \\(ICEBERG_WAREHOUSE\\): Could not read the catalog configuration: HTTP \\d+`,
      ),
    );
    expect(r.fix).toBe('set ICEBERG_WAREHOUSE to a warehouse this catalog has');
  });

  it('a nested SYNC_NAMESPACE whose parent does not exist (Nessie refuses to create it)', async () => {
    const r = onlyFailure(await checks('namespace without its parent', { SYNC_NAMESPACE: `${namespace}.child` }, 'namespace'), 'namespace');
    expect(r.message).toBe(
      `The namespace ${namespace}.child does not exist, nor its parent ${namespace}: a sync creates only ${namespace}.child, and catalogs may refuse it without its parent`,
    );
  });

  it('a wrong S3 secret key: SignatureDoesNotMatch, never the key', async () => {
    const wrong = `wrong-${crypto.randomBytes(12).toString('hex')}`;
    const results = await checks('wrong S3_SECRET_ACCESS_KEY', { S3_SECRET_ACCESS_KEY: wrong }, 'storage');
    const r = onlyFailure(results, 'storage');
    expect(r.message).toBe(`S3 at ${settings.S3_ENDPOINT} refused the request signature (SignatureDoesNotMatch): the secret key does not belong to the access key`);
    expect(r.fix).toBe('check S3_SECRET_ACCESS_KEY (and S3_ACCESS_KEY_ID)');
    expect(JSON.stringify(results)).not.toContain(wrong);
    expect(JSON.stringify(results)).not.toContain(settings.S3_SECRET_ACCESS_KEY);
  });

  it('S3_BUCKET naming a bucket that does not exist', async () => {
    const r = onlyFailure(await checks('S3_BUCKET that does not exist', { S3_BUCKET: missingBucket }, 'warehouse'), 'warehouse');
    expect(r.message).toMatch(
      new RegExp(`^S3_BUCKET=${missingBucket} names a bucket that does not exist at ${settings.S3_ENDPOINT}: the catalog's warehouse is at s3://${settings.S3_BUCKET}/?$`),
    );
    expect(r.fix).toBe(`set S3_BUCKET=${settings.S3_BUCKET} (or unset it), or check ICEBERG_WAREHOUSE`);
  });

  it("a warehouse location in a bucket that does not exist (the catalog's, through a gateway)", async () => {
    const r = onlyFailure(await checks("warehouse's bucket does not exist", { ICEBERG_CATALOG_URI: gatewayUri, S3_BUCKET: undefined }, 'storage'), 'storage');
    expect(r.message).toBe(`The bucket ${missingBucket} does not exist at ${settings.S3_ENDPOINT} (NoSuchBucket)`);
    expect(r.fix).toBe(`create the bucket ${missingBucket}, or fix S3_BUCKET / the warehouse location of the catalog or S3_ENDPOINT`);
  });

  it('a Salesforce domain host that does not resolve', async () => {
    const r = onlyFailure(await checks('domain host that does not resolve', { [E.domain]: 'https://nonexistent.invalid' }, 'salesforce-login'), 'salesforce-login');
    expect(r.message).toBe('Could not reach Salesforce at https://nonexistent.invalid: the host nonexistent.invalid does not resolve (ENOTFOUND)');
    expect(r.fix).toContain(`check ${E.domain}`);
  });

  it('a malformed JWT private key (inline): a settings problem naming the variable, never the key', async () => {
    const malformed = '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-truncated\\n-----END PRIVATE KEY-----';
    const results = await checks(
      'malformed JWT private key (inline)',
      { [E.password]: undefined, [E.securityToken]: undefined, [E.consumerKey]: SIM_DEFAULTS.client.clientId, [E.privateKey]: malformed },
      'settings',
    );
    const r = onlyFailure(results, 'settings');
    expect(r.message).toMatch(new RegExp(`^a problem: ${E.privateKey}: is not a PEM private key \\(`));
    expect(results['salesforce-login']).toMatchObject({ status: 'skipped' });
    expect(JSON.stringify(results)).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  });

  it('a JWT bearer login with a good key passes (the same settings, the key fixed)', async () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n');
    const r = await checks(
      'JWT bearer, good key',
      { [E.password]: undefined, [E.securityToken]: undefined, [E.consumerKey]: SIM_DEFAULTS.client.clientId, [E.privateKey]: pem },
      'salesforce-login',
    );
    expect(r['salesforce-login']).toMatchObject({ status: 'ok', message: expect.stringContaining('JwtBearer login') });
    expect(JSON.stringify(r)).not.toContain(pem.slice(60, 120));
  });

  it('client credentials against a catalog without a token endpoint', async () => {
    const results = await checks('ICEBERG_CLIENT_ID/SECRET, no token endpoint', { ICEBERG_CLIENT_ID: 'sync-client', ICEBERG_CLIENT_SECRET: 'iceberg-secret-4711' }, 'catalog');
    const r = onlyFailure(results, 'catalog');
    expect(r.message).toMatch(new RegExp(`^There is no OAuth2 token endpoint at ${settings.ICEBERG_CATALOG_URI}/v1/oauth/tokens \\(HTTP \\d+\\)\\. Set ICEBERG_OAUTH2_SERVER_URI`));
    expect(JSON.stringify(results)).not.toContain('iceberg-secret-4711');
  });

  it('TEMPORAL_ADDRESS with a port nobody listens on', async () => {
    const r = onlyFailure(await checks('Temporal port nobody listens on', { TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }, 'temporal'), 'temporal');
    expect(r.message).toBe(`Could not connect to Temporal at 127.0.0.1:${closedPort} (TEMPORAL_ADDRESS): nothing listens at 127.0.0.1:${closedPort} (connection refused)`);
  });

  it('npm run check --json: the same checks, exit code 1 on a failure', async () => {
    const child = { ...process.env, ...env, SF_ICEBERG_HOME: root };
    const good = await run(process.execPath, ['--import', 'tsx', 'scripts/check.ts', '--json'], { cwd: root, env: child });
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true });
    const bad = await run(process.execPath, ['--import', 'tsx', 'scripts/check.ts'], { cwd: root, env: { ...child, S3_SECRET_ACCESS_KEY: 'wrong-secret-4711' } }).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(bad?.code).toBe(1);
    expect(bad!.stdout).toMatch(/^FAIL {2}storage +S3 at .* refused the request signature \(SignatureDoesNotMatch\)/m);
    expect(bad!.stdout).toMatch(/^ok {4}temporal /m);
    expect(bad!.stdout).not.toContain('wrong-secret-4711');
  });
});

describe('the worker runs the preflight before polling', () => {
  it('a worker whose preflight fails exits 1 without polling its task queue', async () => {
    const taskQueue = uniqueName('preflight-worker');
    const worker = new WorkerProcess({ ...env, ICEBERG_CATALOG_URI: `http://127.0.0.1:${closedPort}/iceberg`, TEMPORAL_TASK_QUEUE: taskQueue });
    const code = await worker.exited;
    expect(code).toBe(1);
    expect(worker.output).toMatch(/^ {2}FAIL {2}catalog +Could not read the catalog configuration/m);
    expect(worker.output).toContain('The worker does not start');
    expect(worker.output).not.toContain('Worker polling');
    // Neither workflow (1) nor activity (2) pollers ever reached the server.
    for (const taskQueueType of [1, 2]) {
      const described = await client.workflowService.describeTaskQueue({ namespace: settings.TEMPORAL_NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType });
      expect(described.pollers ?? []).toEqual([]);
    }
  });
  // A worker whose preflight passes polls: every worker of test/integration/sync-crash.test.ts starts that way.
});
