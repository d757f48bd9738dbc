import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  asPostgresUser,
  lakekeeperBinary,
  lakekeeperEnv,
  lakekeeperPorts,
  lakekeeperServers,
  missingLakekeeperMessage,
  postgresBinDir,
  warehouseBody,
} from '../../scripts/stack/lakekeeper';
import { catalogChoice, connectionSettings, stackPorts } from '../../scripts/stack/servers';
import { StackError } from '../../scripts/stack/toolchain';

// Lakekeeper cannot be had on these machines (no registry has it; its source builds only against
// git forks): the stack's pieces that do not need the binary are checked here.
const ports = { lakekeeper: 25401, lakekeeperMetrics: 25402, postgres: 25400 };
const s3 = { endpoint: 'http://127.0.0.1:25300', accessKeyId: 'root', secretAccessKey: 'se"cret' };

describe('Lakekeeper in the local stack', () => {
  it('without LAKEKEEPER_BIN says what is missing and where to get it, before anything starts', () => {
    expect(() => lakekeeperBinary({})).toThrow(StackError);
    expect(() => lakekeeperBinary({})).toThrow(/^LAKEKEEPER_BIN is not set\. --catalog lakekeeper runs a Lakekeeper binary you provide/);
    expect(missingLakekeeperMessage({})).toContain('https://github.com/lakekeeper/lakekeeper/releases');
    expect(missingLakekeeperMessage({})).toContain('quay.io/lakekeeper/catalog');
    expect(() => lakekeeperBinary({ LAKEKEEPER_BIN: '/nonexistent/lakekeeper' })).toThrow(/^LAKEKEEPER_BIN=\/nonexistent\/lakekeeper is not an executable file\./);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-'));
    const notExecutable = path.join(dir, 'lakekeeper');
    fs.writeFileSync(notExecutable, '', { mode: 0o644 });
    if (process.getuid?.() !== 0) expect(() => lakekeeperBinary({ LAKEKEEPER_BIN: notExecutable })).toThrow(StackError);
    fs.chmodSync(notExecutable, 0o755);
    expect(lakekeeperBinary({ LAKEKEEPER_BIN: notExecutable })).toBe(notExecutable);
    expect(() => lakekeeperBinary({ LAKEKEEPER_BIN: dir })).toThrow(StackError);
  });

  it('is a catalog choice, and the settings point at its REST base', () => {
    expect(catalogChoice('lakekeeper')).toBe('lakekeeper');
    const settings = connectionSettings(stackPorts({}), { accessKeyId: 'x', secretAccessKey: 'y' }, {}, 'lakekeeper');
    expect(settings.ICEBERG_CATALOG_URI).toBe(`http://127.0.0.1:${lakekeeperPorts().lakekeeper}/catalog`);
    expect(lakekeeperPorts({ STACK_LAKEKEEPER_PORT: '25401', STACK_POSTGRES_PORT: '25400', STACK_LAKEKEEPER_METRICS_PORT: '25402' })).toEqual(ports);
    expect(() => lakekeeperPorts({ STACK_POSTGRES_PORT: 'x' })).toThrow(/STACK_POSTGRES_PORT=x is not a port number/);
  });

  it("creates a warehouse on the stack's MinIO that vends STS credentials and allows remote signing", () => {
    expect(warehouseBody(s3)).toEqual({
      'warehouse-name': 'warehouse',
      'storage-profile': {
        type: 's3',
        bucket: 'warehouse',
        'key-prefix': 'lakekeeper',
        endpoint: 'http://127.0.0.1:25300',
        region: 'us-east-1',
        'path-style-access': true,
        flavor: 'minio',
        'sts-enabled': true,
        'remote-signing-enabled': true,
      },
      'storage-credential': { type: 's3', 'credential-type': 'access-key', 'aws-access-key-id': 'root', 'aws-secret-access-key': 'se"cret' },
    });
  });

  it('runs PostgreSQL on 127.0.0.1 at its own port (as an unprivileged user when root), then migrate and serve', () => {
    expect(asPostgresUser('/pg/bin/postgres', ['-D', 'd'], true)).toEqual({ command: 'runuser', args: ['-u', 'nobody', '--', '/pg/bin/postgres', '-D', 'd'] });
    expect(asPostgresUser('/pg/bin/postgres', ['-D', 'd'], false)).toEqual({ command: '/pg/bin/postgres', args: ['-D', 'd'] });
    for (const root of [true, false]) {
      const [pg, lk] = lakekeeperServers({
        lakekeeper: '/opt/lakekeeper',
        pgBin: '/usr/lib/postgresql/17/bin',
        ports,
        dataDir: '/s/.stack/postgres',
        s3,
        encryptionKey: 'k',
        root,
      });
      // As root the server's line is quoted once more, for runuser's shell.
      const pgLine = pg!.args.join(' ').replace(/'\\''/g, "'");
      expect(pgLine).toContain("'/usr/lib/postgresql/17/bin/initdb' -D '/s/.stack/postgres' -U lakekeeper --auth=trust");
      expect(pgLine).toContain("'/usr/lib/postgresql/17/bin/postgres' -D '/s/.stack/postgres' -h 127.0.0.1 -p 25400");
      expect(pgLine.includes('runuser -u nobody')).toBe(root);
      expect(pg!.ports).toEqual([25400]);
      const lkLine = lk!.args.join(' ');
      expect(lkLine.indexOf("'/opt/lakekeeper' migrate")).toBeGreaterThan(lkLine.indexOf('pg_isready'));
      expect(lkLine.indexOf("'/opt/lakekeeper' serve")).toBeGreaterThan(lkLine.indexOf('migrate'));
      // The shell the stack started stays (down compares its command line): no exec of the last command.
      for (const line of [pgLine, lkLine]) expect(line).toMatch(/; exit \$\?$/);
      expect(lkLine).not.toContain('exec ');
      expect(lk!.ports).toEqual([25401, 25402]);
      expect(lk!.urls[0]).toBe('http://127.0.0.1:25401/catalog');
    }
    expect(lakekeeperEnv(ports, 'k')).toMatchObject({
      LAKEKEEPER__PG_DATABASE_URL_READ: 'postgresql://lakekeeper@127.0.0.1:25400/lakekeeper',
      LAKEKEEPER__PG_DATABASE_URL_WRITE: 'postgresql://lakekeeper@127.0.0.1:25400/lakekeeper',
      LAKEKEEPER__PG_ENCRYPTION_KEY: 'k',
      LAKEKEEPER__BASE_URI: 'http://127.0.0.1:25401',
      LAKEKEEPER__LISTEN_PORT: '25401',
      // Its metrics port defaults to 9000: MinIO's.
      LAKEKEEPER__METRICS_PORT: '25402',
    });
  });

  it("finds Debian's PostgreSQL server binaries, newest major first", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-'));
    expect(postgresBinDir(root)).toBeUndefined();
    for (const major of ['15', '17']) {
      fs.mkdirSync(path.join(root, major, 'bin'), { recursive: true });
      for (const bin of ['postgres', 'initdb']) fs.writeFileSync(path.join(root, major, 'bin', bin), '');
    }
    expect(postgresBinDir(root)).toBe(path.join(root, '17', 'bin'));
  });
});
