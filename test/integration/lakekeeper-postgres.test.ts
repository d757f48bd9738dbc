import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lakekeeperServers, postgresBinDir } from '../../scripts/stack/lakekeeper';
import { isOurs, startDetached, stopProcess } from '../../scripts/stack/processes';
import { freePorts, until } from '../helpers/stack';

/*
 * The PostgreSQL half of `npm run stack -- up --catalog lakekeeper`, for real (Lakekeeper itself
 * cannot be had here): the server the stack would start prepares its data directory, runs on
 * 127.0.0.1 at its own port (as `nobody` when the tests run as root, which PostgreSQL requires),
 * answers its health check, takes Lakekeeper's database, and stops with the stack's stopProcess.
 */
const pgBin = postgresBinDir();

describe.skipIf(!pgBin)("Lakekeeper's PostgreSQL in the local stack", () => {
  it('starts from the stack spec, is healthy, holds the lakekeeper database, and stops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakekeeper-pg-'));
    fs.chmodSync(dir, 0o755); // PostgreSQL's user must reach its data directory inside
    const [pgPort, lkPort, metricsPort] = await freePorts(3);
    const ports = { postgres: pgPort!, lakekeeper: lkPort!, lakekeeperMetrics: metricsPort! };
    const [pg] = lakekeeperServers({
      lakekeeper: '/bin/false',
      pgBin: pgBin!,
      ports,
      dataDir: path.join(dir, 'postgres'),
      s3: { endpoint: 'http://127.0.0.1:1', accessKeyId: 'a', secretAccessKey: 'b' },
      encryptionKey: 'k',
    });
    const proc = startDetached(pg!.command, pg!.args, { env: pg!.env, log: path.join(dir, 'postgres.log') });
    try {
      await until(
        'PostgreSQL to answer',
        () =>
          pg!.healthy().then(
            () => true,
            () => (isOurs(proc) ? undefined : Promise.reject(new Error(`PostgreSQL exited: ${fs.readFileSync(path.join(dir, 'postgres.log'), 'utf8')}`))),
          ),
        60_000,
      );
      const psql = (args: string[]) =>
        execFileSync(path.join(pgBin!, 'psql'), ['-h', '127.0.0.1', '-p', String(ports.postgres), '-U', 'lakekeeper', '-tA', ...args], { encoding: 'utf8' });
      execFileSync(path.join(pgBin!, 'createdb'), ['-h', '127.0.0.1', '-p', String(ports.postgres), '-U', 'lakekeeper', 'lakekeeper']);
      expect(psql(['-d', 'lakekeeper', '-c', 'select current_database()']).trim()).toBe('lakekeeper');
      // Only on 127.0.0.1.
      expect(psql(['-d', 'lakekeeper', '-c', 'show listen_addresses']).trim()).toBe('127.0.0.1');
    } finally {
      expect(await stopProcess(proc)).not.toBe('not running');
    }
    expect(isOurs(proc)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
