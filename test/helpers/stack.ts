import net from 'node:net';
import { loadSettings } from '../../src/config/env-file';
import { S3ObjectStore } from '../../src/storage/s3';

const required = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'ICEBERG_CATALOG_URI',
  'ICEBERG_WAREHOUSE',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_BUCKET',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'READERS_PYTHON',
] as const;

export type StackSettings = Record<(typeof required)[number], string> & Record<string, string>;

/** Connection settings of the running local stack; a clear failure when it is not up. */
export function stackSettings(): StackSettings {
  const settings = loadSettings();
  const missing = required.filter((key) => !settings[key]);
  if (missing.length > 0) {
    throw new Error(`Missing ${missing.join(', ')}: integration tests need the local stack (npm run stack -- up), which npm test starts.`);
  }
  return settings as StackSettings;
}

/** A name no other test run uses, valid as an Iceberg namespace, S3 key part or task queue. */
/**
 * The stack's own view of storage: MinIO through the stack's keys, which see every bucket (a test's
 * audit of what a run left, where the worker holds only what the catalog vends).
 */
export function stackObjectStore(settings: StackSettings = stackSettings()): S3ObjectStore {
  return new S3ObjectStore({
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    pathStyle: settings.S3_PATH_STYLE === 'true',
    accessKeyId: settings.S3_ACCESS_KEY_ID,
    secretAccessKey: settings.S3_SECRET_ACCESS_KEY,
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls until the probe returns a value; fails naming what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Ports free on 127.0.0.1 right now (for a throwaway stack of a test's own). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
