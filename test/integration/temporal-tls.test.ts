import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPreflight } from '../../src/preflight/checks';
import { createSyncWorker } from '../../worker/create';
import { temporalCheck } from '../../worker/preflight';
import { temporalConnection } from '../../worker/temporal-connection';
import { stackSettings } from '../helpers/stack';
import { syncHarness } from '../helpers/sync-harness';
import { temporalCliPath } from '../helpers/temporal-cli';
import { makeCertificates, startTlsProxy, type TestCertificates } from '../helpers/tls-proxy';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/**
 * Temporal over TLS: the dev server speaks plain gRPC, so a TLS proxy of the test's own (a CA and a
 * server certificate made here, for the name temporal.test only) sits in front of it. A real sync
 * worker and its client reach Temporal only through the proxy, trusting the CA by
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH and expecting the name by TEMPORAL_TLS_SERVER_NAME.
 */
const run = promisify(execFile);
const settings = stackSettings();
let certs: TestCertificates;
let proxy: Awaited<ReturnType<typeof startTlsProxy>>;
/** Filled before the harness starts its worker (hooks run in the order they are declared). */
const tlsEnv: Record<string, string> = {};

beforeAll(async () => {
  certs = makeCertificates('temporal.test');
  proxy = await startTlsProxy(certs, settings.TEMPORAL_ADDRESS);
  Object.assign(tlsEnv, { TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caPath, TEMPORAL_TLS_SERVER_NAME: certs.serverName });
});

const sim = new SalesforceSimulator({ rowCounts: { Account: 40 } });
const harness = syncHarness({ name: 'tls', sim, env: tlsEnv });

afterAll(async () => {
  await proxy?.stop();
  if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
});

/** Settings of the stack with changes; an undefined value unsets the variable. */
function withChanges(changes: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = { ...settings, ...tlsEnv };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

async function temporalResult(env: Record<string, string>) {
  const [result] = await runPreflight(env, { checks: [temporalCheck], timeoutMs: 10_000 });
  return result!;
}

describe('Temporal over TLS (a TLS proxy in front of the dev server)', () => {
  it('a sync worker and its client connect through TLS and sync an object', async () => {
    const handshakesBefore = proxy.handshakes();
    const outcomes = await harness.sync({ objects: ['Account'], namespace: harness.namespace() });
    expect(outcomes.map((o) => [o.object, o.status, o.result?.rows])).toEqual([['Account', 'succeeded', 40]]);
    // The worker's connection and the client's both went through the proxy (it speaks only TLS).
    expect(handshakesBefore).toBeGreaterThanOrEqual(2);
    expect(temporalConnection(withChanges({})).tls).toMatchObject({ serverName: 'temporal.test' });
  });

  it('the check connects and says how', async () => {
    const result = await temporalResult(withChanges({}));
    expect(result).toMatchObject({
      status: 'ok',
      message: expect.stringContaining(`${proxy.address}, TLS (trusting the CA of TEMPORAL_TLS_SERVER_CA_CERT_PATH, server name temporal.test)`),
    });
  });

  it('without the CA the connection is refused, and the check and the worker name the TLS settings', async () => {
    const env = withChanges({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined, TEMPORAL_TLS: 'true' });
    const result = await temporalResult(env);
    expect(result.status).toBe('problem');
    expect(result.message).toMatch(/the TLS handshake failed: .*(self[- ]signed|issuer|unable to verify)/i);
    expect(result.fix).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(result.ms).toBeLessThan(5000);
    await expect(createSyncWorker({ ...env, ...sim.settingsEnv() }, { taskQueue: 'never-polled' })).rejects.toThrow(
      /Could not connect to Temporal at .*TLS.*UnknownIssuer[\s\S]*Fix: check the TLS settings: TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
  });

  it('a certificate for another name is refused, naming TEMPORAL_TLS_SERVER_NAME', async () => {
    const result = await temporalResult(withChanges({ TEMPORAL_TLS_SERVER_NAME: undefined }));
    expect(result.status).toBe('problem');
    expect(result.message).toMatch(/the TLS handshake failed: .*(altnames|does not match)/i);
    expect(result.fix).toContain('TEMPORAL_TLS_SERVER_NAME');
  });

  it('TLS to a server without TLS fails the handshake, naming TEMPORAL_TLS', async () => {
    const result = await temporalResult(withChanges({ TEMPORAL_ADDRESS: settings.TEMPORAL_ADDRESS }));
    expect(result).toMatchObject({ status: 'problem', message: expect.stringContaining('the TLS handshake failed: the server does not answer with TLS') });
    expect(result.fix).toContain('does not use TLS: set TEMPORAL_TLS=false');
  });

  it('a profile of a config file gives the same connection, to the client and to the temporal CLI', async () => {
    const file = path.join(certs.dir, 'temporal.toml');
    fs.writeFileSync(
      file,
      [
        '[profile.secured]',
        `address = "${proxy.address}"`,
        'namespace = "default"',
        '[profile.secured.tls]',
        `server_ca_cert_path = "${certs.caPath}"`,
        `server_name = "${certs.serverName}"`,
        '',
      ].join('\n'),
    );
    const env = withChanges({
      TEMPORAL_ADDRESS: undefined,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined,
      TEMPORAL_TLS_SERVER_NAME: undefined,
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'secured',
    });
    const temporal = temporalConnection(env);
    expect(temporal).toMatchObject({ address: proxy.address, profile: { name: 'secured', file }, tls: { serverName: 'temporal.test' } });
    const handshakes = proxy.handshakes();
    const connection = await Connection.connect(temporal.options);
    try {
      expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
    // The README's CLI line: the same profile, read by the temporal CLI.
    const { stdout } = await run(temporalCliPath(), ['operator', 'namespace', 'describe', '--namespace', 'default', '--profile', 'secured', '--config-file', file, '-o', 'json'], {
      env: { PATH: process.env.PATH, HOME: certs.dir },
    });
    expect(JSON.parse(stdout)).toMatchObject({ namespaceInfo: { name: 'default' } });
    expect(proxy.handshakes()).toBeGreaterThanOrEqual(handshakes + 2);
  });
});
