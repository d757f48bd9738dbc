import path from 'node:path';
import fs from 'node:fs';
import { WORKER_NODE_FLAGS, WORKER_PROCESS_ENV } from '../../worker/process-options';
import { describe, expect, it } from 'vitest';
import { WorkerLogger } from '../../worker/logger';
import { partitionTaskQueue } from '../../src/sync/objects';
import { settingsProblems } from '../../src/settings/settings';
import { salesforceEnv as E } from '../../src/salesforce/settings';

describe('worker configuration check', () => {
  it('lists every problem, naming variables and never values', () => {
    const problems = settingsProblems({ ICEBERG_CATALOG_URI: 'not-a-url', [E.userName]: 'u', [E.password]: 'secret-pass-42' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain(`needs ${E.securityToken}`);
    expect(problems[1]).toContain('ICEBERG_CATALOG_URI');
    expect(problems.join('\n')).not.toContain('secret-pass-42');
  });

  it('refuses malformed sync settings', () => {
    const base = { ICEBERG_CATALOG_URI: 'http://127.0.0.1:8181/iceberg', [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't' };
    expect(settingsProblems({ ...base, SYNC_CHECKPOINT_SECONDS: 'soon', SALESFORCE_READ_API: 'soap' })).toEqual([
      'SALESFORCE_READ_API: must be auto, bulk or rest (it is "soap")',
      'SYNC_CHECKPOINT_SECONDS: must be a number of seconds of at least 0 (it is "soon")',
    ]);
  });

  it('is empty when the settings are complete', () => {
    expect(settingsProblems({ ICEBERG_CATALOG_URI: 'http://127.0.0.1:8181/iceberg', [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't' })).toEqual([]);
  });
});

describe("the worker's logger", () => {
  it("drops only the SDK's warning that the partition queue's worker polls no workflow tasks", () => {
    const lines: { level: string; message: string }[] = [];
    const logger = new WorkerLogger('INFO', (e) => lines.push({ level: e.level, message: e.message }));
    logger.warn('No workflows registered, not polling for workflow tasks', { sdkComponent: 'worker', taskQueue: partitionTaskQueue('salesforce-sync') });
    logger.warn('No workflows registered, not polling for workflow tasks', { sdkComponent: 'worker', taskQueue: 'salesforce-sync' });
    logger.warn('Activity failed', { taskQueue: partitionTaskQueue('salesforce-sync') });
    logger.debug('below the level', { taskQueue: 'salesforce-sync' });
    expect(lines).toEqual([
      { level: 'WARN', message: 'No workflows registered, not polling for workflow tasks' },
      { level: 'WARN', message: 'Activity failed' },
    ]);
  });

  it("starts as package.json's worker script says: the same Node flags and memory settings as the tests' and bench's worker processes", () => {
    const script: string = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).scripts.worker;
    const [command, ...rest] = script.split(' scripts/run.mjs ');
    expect(rest).toEqual(['worker/main.ts']);
    const words = command!.split(/\s+/);
    const node = words.indexOf('node');
    const env = Object.fromEntries(words.slice(0, node).map((w) => w.split('=') as [string, string]));
    expect(env).toEqual(WORKER_PROCESS_ENV);
    expect(words.slice(node + 1)).toEqual([...WORKER_NODE_FLAGS]);
  });
});
