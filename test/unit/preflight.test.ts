import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckFailure, CheckSkipped, formatResult, preflightChecks, runPreflight, type Check, type CheckResult } from '../../src/preflight/checks';
import { salesforceEnv as E } from '../../src/salesforce/settings';
import { SIM_DEFAULTS, SalesforceSimulator } from '../../src/salesforce-sim/server';

/**
 * The preflight's runner and its Salesforce checks, without the stack: the simulator runs in this
 * process. The catalog, storage and Temporal checks run against the real stack in
 * test/integration/preflight.test.ts.
 */
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const sim = new SalesforceSimulator({ rowCounts: { Account: 5 }, jwtCertificate: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-'));
beforeAll(() => sim.start());
afterAll(() => sim.stop());

/** Only the Salesforce checks, in DuckDB mode so no catalog is needed. */
const salesforceOnly = (env: Record<string, string>, opts: { hiddenFields?: boolean } = {}) =>
  runPreflight({ DUMP_TO_DUCKDB: 'true', DUCKDB_PATH: path.join(dir, 'x.duckdb'), ...env }, { checks: preflightChecks().filter((c) => c.chain === 'salesforce'), ...opts });
const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));

describe('preflight: Salesforce checks against the simulator', () => {
  it('logs in and describes one object', async () => {
    const r = byName(await salesforceOnly(sim.settingsEnv()));
    expect(r['salesforce-login']).toMatchObject({ status: 'ok', message: expect.stringContaining(`SecurityToken login as ${SIM_DEFAULTS.user.username}`) });
    expect(r['salesforce-describe']).toMatchObject({ status: 'ok', message: expect.stringMatching(/^Account: \d+ fields, \d+ synced; incremental cursor SystemModstamp$/) });
  });

  it('hidden field: fields the integration user cannot see are a warning naming them and the fix, not a failure', async () => {
    sim.org.hideField('Account', 'Industry');
    sim.org.hideField('Account', 'AnnualRevenue');
    try {
      // A starting worker's preflight does not query fields (it reads no data); `npm run check` does.
      expect(byName(await salesforceOnly(sim.settingsEnv()))['salesforce-describe']!.status).toBe('ok');
      const results = await salesforceOnly(sim.settingsEnv(), { hiddenFields: true });
      const r = byName(results);
      expect(r['salesforce-describe']).toMatchObject({
        status: 'warning',
        message: expect.stringMatching(
          /^Account: \d+ fields, \d+ synced; incremental cursor SystemModstamp; the integration user cannot see 2 fields Industry, AnnualRevenue \(field-level security\): a sync leaves them out$/,
        ),
        fix: expect.stringContaining('field-level security of its profile or a permission set'),
      });
      expect(formatResult(r['salesforce-describe']!)).toMatch(/^WARN  salesforce-describe /);
      expect(results.some((x) => x.status === 'problem')).toBe(false);
    } finally {
      sim.org.unhideField('Account', 'Industry');
      sim.org.unhideField('Account', 'AnnualRevenue');
    }
  });

  it('a wrong password: what Salesforce said, which variables to check, never the password', async () => {
    const results = await salesforceOnly({ ...sim.settingsEnv(), [E.password]: 'wrong-Passw0rd-4711' });
    const r = byName(results);
    expect(r['salesforce-login']).toMatchObject({
      status: 'problem',
      message: expect.stringContaining('INVALID_LOGIN'),
      fix: expect.stringContaining(`check the SecurityToken variables ${E.userName}, ${E.password}, ${E.securityToken}`),
    });
    expect(r['salesforce-describe']).toMatchObject({ status: 'skipped', message: 'needs a Salesforce login' });
    expect(JSON.stringify(results)).not.toContain('wrong-Passw0rd-4711');
  });

  it('a domain host that does not resolve fails at once, naming the host and the variable', async () => {
    const r = byName(await salesforceOnly({ ...sim.settingsEnv(), [E.domain]: 'https://nonexistent.invalid' }));
    expect(r['salesforce-login']).toMatchObject({
      status: 'problem',
      message: 'Could not reach Salesforce at https://nonexistent.invalid: the host nonexistent.invalid does not resolve (ENOTFOUND)',
      fix: expect.stringContaining(`check ${E.domain}`),
    });
  });

  it('a malformed JWT private key file is named, with what it should hold', async () => {
    const file = path.join(dir, 'bad.pem');
    fs.writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    const r = byName(
      await salesforceOnly({ [E.domain]: sim.url, [E.userName]: SIM_DEFAULTS.user.username, [E.consumerKey]: SIM_DEFAULTS.client.clientId, [E.privateKeyFile]: file }),
    );
    expect(r['salesforce-login']).toMatchObject({
      status: 'problem',
      message: expect.stringMatching(new RegExp(`^The JWT private key in the file ${file} \\(${E.privateKeyFile}\\) is not a PEM private key`)),
      fix: expect.stringContaining('RSA private key'),
    });
  });

  it('a JWT bearer login with a good key works', async () => {
    const file = path.join(dir, 'good.pem');
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = byName(
      await salesforceOnly({ [E.domain]: sim.url, [E.userName]: SIM_DEFAULTS.user.username, [E.consumerKey]: SIM_DEFAULTS.client.clientId, [E.privateKeyFile]: file }),
    );
    expect(r['salesforce-login']).toMatchObject({ status: 'ok', message: expect.stringContaining('JwtBearer login') });
  });

  it('an object the org does not have', async () => {
    const r = byName(await salesforceOnly({ ...sim.settingsEnv(), PREFLIGHT_OBJECT: 'Nope__c' }));
    expect(r['salesforce-describe']).toMatchObject({
      status: 'problem',
      message: expect.stringContaining('Salesforce has no object named Nope__c'),
      fix: expect.stringContaining('PREFLIGHT_OBJECT'),
    });
  });
});

describe('preflight: the runner', () => {
  it('a check that gets no answer fails when its time is up, with what to check', async () => {
    // A server that accepts connections and never answers.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const results = await runPreflight(
        { ...sim.settingsEnv(), ICEBERG_CATALOG_URI: `http://127.0.0.1:${port}/iceberg` },
        { checks: preflightChecks().filter((c) => c.name === 'catalog'), timeoutMs: 300 },
      );
      expect(results).toMatchObject([
        { name: 'catalog', status: 'problem', message: 'no answer within 0.3 s (PREFLIGHT_TIMEOUT_SECONDS)', fix: expect.stringContaining('ICEBERG_CATALOG_URI') },
      ]);
    } finally {
      silent.close();
    }
  });

  it('runs chains side by side, reports in order, skips what depends on a failure, and scrubs secrets', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((r) => (releaseFirst = r));
    const seen: string[] = [];
    const checks: Check[] = [
      { name: 'a1', chain: 'a', timeoutFix: '', run: async () => (await firstMayEnd, 'a1 done') },
      {
        name: 'a2',
        chain: 'a',
        timeoutFix: '',
        run: async () => {
          throw new CheckSkipped('needs a1');
        },
      },
      // b runs while a1 waits, and lets a1 end: the chains are not one after the other.
      {
        name: 'b1',
        chain: 'b',
        timeoutFix: '',
        run: async ({ env }) => {
          releaseFirst();
          throw new CheckFailure(`refused ${env.S3_SECRET_ACCESS_KEY}`, 'check S3_SECRET_ACCESS_KEY');
        },
      },
    ];
    const results = await runPreflight({ S3_SECRET_ACCESS_KEY: 'top-secret-4711' }, { checks, onResult: (r) => seen.push(r.name), timeoutMs: 60_000 });
    expect(seen).toEqual(['a1', 'a2', 'b1']);
    expect(results.map((r) => [r.name, r.status, r.message])).toEqual([
      ['a1', 'ok', 'a1 done'],
      ['a2', 'skipped', 'needs a1'],
      ['b1', 'problem', 'refused ***'],
    ]);
    expect(formatResult(results[2]!)).toMatch(/^FAIL {2}b1 +refused \*\*\* -> fix: check S3_SECRET_ACCESS_KEY {2}\(\d+(\.\d)? s\)$/);
  });

  it('a bad setting fails the settings check only, once; the checks that need its area are skipped', async () => {
    const results = await runPreflight({ ...sim.settingsEnv(), WORKER_MAX_ACTIVITIES: '0', PREFLIGHT_OBJECT: '1Account', DUMP_TO_DUCKDB: 'true' });
    expect(results.filter((r) => r.status === 'problem').map((r) => [r.name, r.message])).toEqual([
      ['settings', '2 problems: WORKER_MAX_ACTIVITIES: must be a whole number of at least 1 (it is "0"); PREFLIGHT_OBJECT: must be a Salesforce object name (it is "1Account")'],
    ]);
    expect(byName(results)['salesforce-describe']).toMatchObject({ status: 'skipped', message: 'the preflight settings have problems (see settings)' });
    // A bad worker setting alone skips nothing: no check reads the worker's settings.
    const worker = byName(await runPreflight({ ...sim.settingsEnv(), WORKER_MAX_ACTIVITIES: '0', DUMP_TO_DUCKDB: 'true' }));
    expect(worker['salesforce-describe']).toMatchObject({ status: 'ok' });
  });

  it('settings problems fail the settings check and skip the checks of their area', async () => {
    const results = byName(await runPreflight({ [E.userName]: 'u', TEMPORAL_ADDRESS: '127.0.0.1:99999', DUMP_TO_DUCKDB: 'true', DUCKDB_PATH: path.join(dir, 'y.duckdb') }));
    expect(results.settings).toMatchObject({ status: 'problem', message: expect.stringContaining('TEMPORAL_ADDRESS: has a port outside 1-65535') });
    expect(results['salesforce-login']).toMatchObject({ status: 'skipped' });
    expect(results.catalog).toMatchObject({ status: 'skipped', message: expect.stringContaining('DUMP_TO_DUCKDB=true') });
    expect(results.storage).toMatchObject({ status: 'skipped' });
    expect(results.duckdb).toMatchObject({ status: 'ok' });
  });
});
