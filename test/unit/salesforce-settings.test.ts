import { describe, expect, it } from 'vitest';
import { loginUrlFor, parseSalesforceSettings, salesforceEnv as E } from '../../src/salesforce/settings';
import { fromRestJson } from '../../src/salesforce/values';

describe('Salesforce settings (dlt-compatible names)', () => {
  const kind = (env: Record<string, string>) => parseSalesforceSettings(env).auth.kind;

  it('chooses the auth method from what is set', () => {
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't' })).toBe('SecurityToken');
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.organizationId]: 'o' })).toBe('OrganizationId');
    expect(kind({ [E.userName]: 'u', [E.password]: 'p', [E.consumerKey]: 'k', [E.consumerSecret]: 's' })).toBe('ConsumerKeySecret');
    expect(kind({ [E.userName]: 'u', [E.consumerKey]: 'k', [E.privateKeyFile]: '/x.key' })).toBe('JwtBearer');
    expect(kind({ [E.consumerKey]: 'k', [E.consumerSecret]: 's', [E.domain]: 'acme.my' })).toBe('ClientCredentials');
    expect(kind({ [E.refreshToken]: 'r', [E.consumerKey]: 'k' })).toBe('RefreshToken');
    expect(kind({ [E.sessionId]: 's', [E.instanceUrl]: 'https://acme.my.salesforce.com' })).toBe('InstanceAuth');
  });

  it('names missing and conflicting variables and the method, never values', () => {
    expect(() => parseSalesforceSettings({ [E.userName]: 'u', [E.password]: 'hunter22' })).toThrow(`Salesforce auth method SecurityToken needs ${E.securityToken} (not set).`);
    expect(() => parseSalesforceSettings({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 'tok-secret', [E.organizationId]: 'o' })).toThrow(/SECURITY_TOKEN and .*ORGANIZATION_ID are both set/);
    expect(() => parseSalesforceSettings({ [E.consumerKey]: 'k', [E.consumerSecret]: 's' })).toThrow(/ClientCredentials needs your My Domain in SOURCES__SALESFORCE__DOMAIN/);
    expect(() => parseSalesforceSettings({ [E.sessionId]: 's' })).toThrow(`Salesforce auth method InstanceAuth needs ${E.instanceUrl} (not set).`);
    expect(() => parseSalesforceSettings({})).toThrow(/No Salesforce credentials are set/);
    expect(() => parseSalesforceSettings({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 't', [E.version]: 'latest' })).toThrow(/is not an API version/);
    try {
      parseSalesforceSettings({ [E.userName]: 'u', [E.password]: 'p', [E.securityToken]: 'tok-secret', [E.organizationId]: 'o' });
    } catch (e) {
      expect((e as Error).message).not.toContain('tok-secret');
    }
  });

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
