import { describe, expect, it } from 'vitest';
import { checkObjectNames } from '../../src/sync/object-names';

/* A sync's object names checked against the org's object list before anything starts. */

const org = [
  { name: 'Account', queryable: true },
  { name: 'AccountHistory', queryable: true },
  { name: 'Contact', queryable: true },
  { name: 'Invoice__c', queryable: true },
  { name: 'AccountChangeEvent', queryable: false },
];

describe('object names against the org', () => {
  it('keeps the names the org has (any case), fails the others with the closest names, in the order given', () => {
    const { known, unknown } = checkObjectNames(['account', 'Acount', 'Invoice_c', 'Widget', 'Contact', 'AccountChangeEvent'], org);
    expect(known).toEqual(['account', 'Contact']);
    expect(unknown.map((u) => u.object)).toEqual(['Acount', 'Invoice_c', 'Widget', 'AccountChangeEvent']);
    expect(unknown[0]!.error).toBe(
      'Salesforce has no object named Acount (did you mean Account?): it was not synced (names are case-insensitive; custom objects end in __c). Check the object list of the sync.',
    );
    expect(unknown[1]!.error).toContain('(did you mean Invoice__c?)');
    expect(unknown[2]!.error).not.toContain('did you mean');
    expect(unknown[3]!.error).toContain('cannot be queried');
  });

  it('a thousand misspelt names cost one pass over the list', () => {
    const asked = ['Account', ...Array.from({ length: 999 }, (_, i) => `Acct${i}`)];
    const { known, unknown } = checkObjectNames(asked, org);
    expect(known).toEqual(['Account']);
    expect(unknown).toHaveLength(999);
  });
});
