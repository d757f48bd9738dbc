import { describe, expect, it } from 'vitest';
import { loginUrlFor } from '../../src/salesforce/settings';
import { fromRestJson } from '../../src/salesforce/values';

describe('Salesforce settings (dlt-compatible names)', () => {
  // Which variables choose which method, and what is missing or conflicting: test/unit/settings.test.ts.
  it('domains: login, test, My Domain, or a URL', () => {
    expect(loginUrlFor(undefined)).toBe('https://login.salesforce.com');
    expect(loginUrlFor('test')).toBe('https://test.salesforce.com');
    expect(loginUrlFor('acme.my')).toBe('https://acme.my.salesforce.com');
    expect(loginUrlFor('acme.my.salesforce.com')).toBe('https://acme.my.salesforce.com');
    expect(loginUrlFor('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
  });
});

describe('value normalisation', () => {
  it('turns REST JSON into the column builders’ forms', () => {
    expect(fromRestJson('datetime', '2026-03-01T10:00:00.250+0000')).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 250) * 1000);
    expect(fromRestJson('datetime', '2026-03-01T12:00:00.000+0200')).toBe(Date.UTC(2026, 2, 1, 10) * 1000);
    expect(fromRestJson('currency', 1234.5)).toBe('1234.5');
    expect(fromRestJson('currency', 1e21)).toBe('1000000000000000000000');
    expect(fromRestJson('time', '08:30:00.000Z')).toBe('08:30:00.000');
    expect(fromRestJson('boolean', false)).toBe(false);
    expect(fromRestJson('date', '2026-02-28')).toBe('2026-02-28');
    expect(fromRestJson('string', null)).toBeNull();
  });
});
