import { describe, expect, it } from 'vitest';
import type { SObjectDescribe } from '../../src/salesforce/describe';
import { buildSoql, countSoql, edgeSoql } from '../../src/salesforce/soql';

const account: SObjectDescribe = {
  name: 'Account',
  label: 'Account',
  custom: false,
  fields: [
    { name: 'Id', type: 'id' },
    { name: 'Name', type: 'string' },
    { name: 'SystemModstamp', type: 'datetime' },
    { name: 'CreatedDate', type: 'datetime' },
  ],
};

describe('SOQL resume points', () => {
  it('ordered by (cursor, Id): resumes after the row with both', () => {
    const soql = buildSoql(account, ['Id', 'Name'], {
      window: { field: 'SystemModstamp', upTo: '2026-01-02T00:00:00Z' },
      resumeAfter: { id: '001000000000001AAA', cursor: '2026-01-01T10:00:00.000+0000' },
    });
    expect(soql).toBe(
      "SELECT Id, Name FROM Account WHERE SystemModstamp <= 2026-01-02T00:00:00.000Z AND (SystemModstamp > 2026-01-01T10:00:00.000Z OR (SystemModstamp = 2026-01-01T10:00:00.000Z AND Id > '001000000000001AAA')) ORDER BY SystemModstamp, Id",
    );
  });

  it('without a cursor (replace mode): ordered by Id, resumes after the Id', () => {
    expect(buildSoql(account, ['Id', 'Name'], { resumeAfter: { id: '001000000000001AAA' } })).toBe("SELECT Id, Name FROM Account WHERE Id > '001000000000001AAA' ORDER BY Id");
  });

  it('refuses a resume point that cannot be placed, or an id that is not one', () => {
    expect(() => buildSoql(account, ['Id'], { window: { field: 'SystemModstamp' }, resumeAfter: { id: '001000000000001AAA' } })).toThrow(/needs its SystemModstamp value/);
    expect(() => buildSoql(account, ['Id'], { resumeAfter: { id: "x' OR Name != '" } })).toThrow(/invalid record id/);
  });

  it('Bulk jobs: the window without ORDER BY (it would stop Salesforce chunking them)', () => {
    const window = { field: 'SystemModstamp', after: '2026-01-01T10:00:00Z', upTo: '2026-01-02T00:00:00Z' };
    expect(buildSoql(account, ['Id', 'Name'], { window, ordered: false })).toBe(
      'SELECT Id, Name FROM Account WHERE SystemModstamp > 2026-01-01T10:00:00.000Z AND SystemModstamp <= 2026-01-02T00:00:00.000Z',
    );
    expect(buildSoql(account, ['Id'], { ordered: false })).toBe('SELECT Id FROM Account');
    expect(() => buildSoql(account, ['Id'], { ordered: false, resumeAfter: { id: '001000000000001AAA' } })).toThrow(/must be ordered/);
  });
});

describe('SOQL of a CreatedDate range', () => {
  const window = { field: 'SystemModstamp', after: '2026-01-01T00:00:00Z', upTo: '2026-01-02T00:00:00Z' };
  it('a range narrows the window: from inclusive, before exclusive, either side open', () => {
    expect(buildSoql(account, ['Id'], { window, range: { field: 'CreatedDate', from: '2024-01-01T00:00:00Z', before: '2024-02-01T00:00:00Z' }, ordered: false })).toBe(
      'SELECT Id FROM Account WHERE SystemModstamp > 2026-01-01T00:00:00.000Z AND SystemModstamp <= 2026-01-02T00:00:00.000Z AND CreatedDate >= 2024-01-01T00:00:00.000Z AND CreatedDate < 2024-02-01T00:00:00.000Z',
    );
    expect(buildSoql(account, ['Id'], { range: { field: 'createddate', before: '2024-02-01T00:00:00Z' }, ordered: false })).toBe(
      'SELECT Id FROM Account WHERE CreatedDate < 2024-02-01T00:00:00.000Z',
    );
  });
  it('a count and the first and last CreatedDate of the window, from names describe returned', () => {
    expect(countSoql(account, { window })).toBe('SELECT COUNT() FROM Account WHERE SystemModstamp > 2026-01-01T00:00:00.000Z AND SystemModstamp <= 2026-01-02T00:00:00.000Z');
    expect(edgeSoql(account, 'CreatedDate', 'first')).toBe('SELECT CreatedDate FROM Account ORDER BY CreatedDate ASC LIMIT 1');
    expect(edgeSoql(account, 'CreatedDate', 'last', { window })).toMatch(/WHERE SystemModstamp > .* ORDER BY CreatedDate DESC LIMIT 1$/);
    expect(() => edgeSoql(account, 'CreatedDate; DELETE', 'first')).toThrow(/no field/);
  });
});
