import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunKeys } from '../../src/iceberg/snapshot-producer';
import type { MaintenanceKeys } from '../../src/maintenance';
import * as contract from '../../src/table-contract';

/*
 * The table's contract (src/table-contract.ts) is the one home of the keys the product writes
 * into tables: no other source file spells one, each says what it means, and their values never
 * change (tables written by earlier versions must stay recognised).
 */

const root = path.join(__dirname, '..', '..');
const contractFile = path.join(root, 'src', 'table-contract.ts');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('the table contract', () => {
  it('is the only source file that spells a salesforce.* key', () => {
    const spelled = ['src', 'activities', 'workflows', 'worker', 'scripts']
      .flatMap((d) => sources(path.join(root, d)))
      .filter((f) => f !== contractFile)
      .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/['"`](salesforce\.[a-z][a-z-]+)['"`]/g)].map((m) => `${path.relative(root, f)}: ${m[1]}`));
    expect(spelled).toEqual([]);
  });

  it('says what each key means, and keeps the keys and run ids existing tables hold', () => {
    const text = fs.readFileSync(contractFile, 'utf8');
    for (const [, name] of text.matchAll(/^export (?:const|function) (\w+)/gm))
      expect(text, `${name} has no doc comment`).toMatch(new RegExp(`\\*/\\nexport (const|function) ${name}\\b`));
    const keys = Object.values(contract)
      .flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'object' ? Object.values(v) : []))
      .filter((v): v is string => typeof v === 'string' && v.startsWith('salesforce.'));
    expect([...new Set(keys)].sort()).toEqual([
      'salesforce.api-calls',
      'salesforce.bulk-jobs',
      'salesforce.count',
      'salesforce.created-by-run',
      'salesforce.cursor',
      'salesforce.filled-through-field-id',
      'salesforce.initial-snapshot',
      'salesforce.label',
      'salesforce.last-maintenance',
      'salesforce.maintenance-run-id',
      'salesforce.object',
      'salesforce.publish-id',
      'salesforce.reconciled-deletes',
      'salesforce.reread',
      'salesforce.result-bytes',
      'salesforce.sync-run-id',
      'salesforce.sync-runs',
    ]);
    expect(contract.productRunId('sync/Account', 'a1b2')).toBe('sync/Account@a1b2');
  });

  it('hands the iceberg and maintenance layers the keys they write', () => {
    const sync: RunKeys = contract.SYNC_RUN_KEYS;
    const maintenance: MaintenanceKeys = contract.MAINTENANCE_KEYS;
    expect(sync).toEqual({ runId: 'salesforce.sync-run-id', runs: 'salesforce.sync-runs', initialSnapshot: 'salesforce.initial-snapshot' });
    expect(maintenance).toEqual({ runId: 'salesforce.maintenance-run-id', report: 'salesforce.last-maintenance' });
  });
});
