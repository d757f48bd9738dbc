import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOurs, portInUse, startDetached, stopProcess } from '../../scripts/stack/processes';
import { until } from '../helpers/stack';

describe('stack process control', () => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'procs-')), 'p.log');

  it('owns what it started, stops it, and then reports it gone', async () => {
    const proc = startDetached('sleep', ['300'], { log });
    expect(isOurs(proc)).toBe(true);
    expect(await stopProcess(proc, 5000)).toBe('stopped');
    expect(isOurs(proc)).toBe(false);
    expect(await stopProcess(proc)).toBe('not running');
  });

  it('never claims a live pid that runs another command (a reused pid)', async () => {
    const proc = startDetached('sleep', ['300'], { log });
    try {
      expect(isOurs({ ...proc, command: ['sleep', '301'] })).toBe(false);
      expect(await stopProcess({ ...proc, command: ['sleep', '301'] })).toBe('not running');
      expect(isOurs(proc)).toBe(true); // untouched
    } finally {
      await stopProcess(proc);
    }
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    const own = path.join(path.dirname(log), 'trap.log');
    const proc = startDetached('sh', ['-c', "trap '' TERM; echo trapped; sleep 300 & wait"], { log: own });
    // SIGTERM goes out only once the shell says it ignores it.
    await until('the shell to ignore SIGTERM', async () => (fs.readFileSync(own, 'utf8').includes('trapped') ? true : undefined));
    expect(await stopProcess(proc, 500)).toBe('killed');
    expect(isOurs(proc)).toBe(false);
  });

  it('sees a port that is taken', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    expect(await portInUse(port)).toBe(true);
    await new Promise((r) => server.close(r));
    expect(await portInUse(port)).toBe(false);
  });
});
