import { describe, expect, it } from 'vitest';
import type { SObjectDescribe } from '../../src/salesforce/describe';
import { countMismatch, countQuery, reconcileAfterCount } from '../../src/sync/count-check';

/* The count check's query per write mode, and what a mismatch says. */

const account: SObjectDescribe = {
  name: 'Account',
  label: 'Account',
  custom: false,
  fields: [
    { name: 'Id', type: 'id' },
    { name: 'CreatedDate', type: 'datetime' },
  ],
};

describe('count check', () => {
  it('counts what each write mode should hold: merge the rows created by the window end, replace every row, append nothing', () => {
    expect(countQuery(account, { writeMode: 'merge', upTo: '2026-01-01T00:00:00.000Z' })).toEqual({
      soql: 'SELECT COUNT() FROM Account WHERE CreatedDate < 2026-01-01T00:00:00.001Z',
    });
    expect(countQuery(account, { writeMode: 'replace', upTo: '2026-01-01T00:00:00.000Z' })).toEqual({ soql: 'SELECT COUNT() FROM Account' });
    expect(countQuery(account, { writeMode: 'append', upTo: '2026-01-01T00:00:00.000Z' })).toMatchObject({ skipped: expect.stringContaining('append keeps every version') });
    expect(countQuery({ ...account, fields: [{ name: 'Id', type: 'id' }] }, { writeMode: 'merge', upTo: '2026-01-01T00:00:00.000Z' })).toMatchObject({
      skipped: expect.stringContaining('no CreatedDate'),
    });
  });

  it('a mismatch says both numbers and what to do; agreement and skipped checks say nothing', () => {
    expect(countMismatch('Account', { salesforce: 10, table: 10 })).toBeUndefined();
    expect(countMismatch('Account', { skipped: 'append' })).toBeUndefined();
    const missing = countMismatch('Account', { salesforce: 11, table: 10 })!;
    expect(missing).toContain('Salesforce has 11 rows for what the table holds, the table 10');
    expect(missing).toContain('a full sync');
    expect(countMismatch('Account', { salesforce: 9, table: 10 })).toContain('a reconciling sync removes them');
  });

  it('count check: only a table holding more rows than the last count makes the next sync reconcile (SYNC_COUNT_CHECK=reconcile)', () => {
    expect(reconcileAfterCount('Account', { salesforce: 299, table: 300 })).toBe(
      "the last sync's count check found 300 rows in the table and 299 in Salesforce (SYNC_COUNT_CHECK=reconcile)",
    );
    // Fewer rows than Salesforce: removing rows cannot help (a full sync reads the missing ones); equal: nothing to do.
    expect(reconcileAfterCount('Account', { salesforce: 301, table: 300 })).toBeUndefined();
    expect(reconcileAfterCount('Account', { salesforce: 300, table: 300 })).toBeUndefined();
    expect(reconcileAfterCount('Account', { table: 300 })).toBeUndefined();
    expect(reconcileAfterCount('Account', { salesforce: 300 })).toBeUndefined();
  });
});
