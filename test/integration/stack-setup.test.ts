import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { portInUse } from '../../scripts/stack/processes';
import { freePorts } from '../helpers/stack';

const root = path.resolve(__dirname, '..', '..');
const tsxCli = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** `npm run stack -- up` in a throwaway stack dir on free ports, so the real stack is untouched. */
async function stackUp(extraEnv: Record<string, string>, portsOverride: Partial<Record<string, number>> = {}) {
  const [t, tu, m, mc, n, nm] = await freePorts(6);
  const stackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-'));
  const ports = {
    STACK_TEMPORAL_PORT: t!,
    STACK_TEMPORAL_UI_PORT: tu!,
    STACK_MINIO_PORT: m!,
    STACK_MINIO_CONSOLE_PORT: mc!,
    STACK_NESSIE_PORT: n!,
    STACK_NESSIE_MANAGEMENT_PORT: nm!,
    ...portsOverride,
  };
  const env = { ...process.env, STACK_DIR: stackDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), ...extraEnv };
  const result = spawnSync(process.execPath, [tsxCli, path.join(root, 'scripts', 'stack.ts'), 'up', '--no-readers'], {
    env,
    encoding: 'utf8',
    timeout: 110_000,
  });
  const state = fs.existsSync(path.join(stackDir, 'state.json'))
    ? (JSON.parse(fs.readFileSync(path.join(stackDir, 'state.json'), 'utf8')) as { servers: Record<string, unknown> })
    : { servers: {} };
  return { ...result, output: `${result.stdout}${result.stderr}`, state, ports, stackDir };
}

describe('stack set-up errors', () => {
  it('refuses a port that is already taken, names it, and starts nothing', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await stackUp({}, { STACK_NESSIE_PORT: busy });
      expect(r.status).toBe(1);
      expect(r.output).toContain(`port ${busy} (Nessie (Iceberg REST catalog)) is already in use`);
      expect(r.output).toContain('STACK_NESSIE_PORT');
      expect(r.state.servers).toEqual({});
      expect(await portInUse(r.ports.STACK_TEMPORAL_PORT)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('says what to install when a toolchain is missing', async () => {
    const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-'));
    const r = await stackUp({ PATH: '/nonexistent', SF_ICEBERG_CACHE: emptyCache, NESSIE_JAR: path.join(emptyCache, 'missing.jar') });
    expect(r.status).toBe(1);
    expect(r.output).toContain('The local stack cannot be set up');
    expect(r.output).toMatch(/Temporal CLI is not on PATH and Go is not installed to build it: install Go/);
    expect(r.output).toMatch(/MinIO is not on PATH and Go is not installed/);
    expect(r.output).toContain('NESSIE_JAR points to');
    expect(r.state.servers).toEqual({});
  });

  it('gives up on a server that is not healthy in time, shows its log, and stops what it started', async () => {
    const r = await stackUp({ STACK_START_TIMEOUT_S: '1' });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/did not become healthy within 1 s/);
    expect(r.output).toMatch(/Last lines of .*\.log:/);
    expect(r.state.servers).toEqual({});
    for (const port of Object.values(r.ports)) expect(await portInUse(port)).toBe(false);
  });
});
