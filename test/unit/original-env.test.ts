import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, envFileProblems } from '../../src/config/env-file';
import { parseIcebergSettings } from '../../src/iceberg/settings';
import { settingsProblems, SETTINGS } from '../../src/settings/settings';
import { batchSizeNote, objectOfResource, syncDefaults } from '../../src/sync/sync-defaults';

/** The original pipeline's .env.local, as its README gives it (1Password references resolved). */
const ORIGINAL = `# Salesforce Credentials (SecurityTokenAuth)
SOURCES__SALESFORCE__CREDENTIALS__USER_NAME="user@example.com"
SOURCES__SALESFORCE__CREDENTIALS__PASSWORD="pw-secret-4711"
SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN="tok-secret-4711"

# Iceberg REST Catalog Configuration
ICEBERG_CATALOG_URL="http://lakekeeper.lakekeeper:8181/catalog"
ICEBERG_WAREHOUSE="demo1"
ICEBERG_NAMESPACE="salesforce"
ICEBERG_TOKEN="lakekeeper-secret-4711"

# Optional: Performance Tuning
BATCH_SIZE=1000

# Optional: Data Loading Configuration
WRITE_DISPOSITION=default  # default or force_replace
SALESFORCE_RESOURCES=account,contact,opportunity,opportunity_contact_role

# Optional: Fallback to DuckDB for testing
DUMP_TO_DUCKDB=false
`;

const home = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'original-env-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
};

describe("the original pipeline's .env.local", () => {
  it('is read as it is, every name a setting, no S3 keys needed', () => {
    expect(envFileProblems(ORIGINAL)).toEqual([]);
    const env = loadSettings(home({ '.env.local': ORIGINAL }), {});
    expect(settingsProblems(env)).toEqual([]);
    expect(env).toMatchObject({ ICEBERG_CATALOG_URI: 'http://lakekeeper.lakekeeper:8181/catalog', SYNC_NAMESPACE: 'salesforce', WRITE_DISPOSITION: 'default' });
    expect(env).not.toHaveProperty('ICEBERG_CATALOG_URL');
    expect(parseIcebergSettings(env)).toMatchObject({ ICEBERG_CATALOG_URI: 'http://lakekeeper.lakekeeper:8181/catalog', ICEBERG_WAREHOUSE: 'demo1' });
    expect(syncDefaults(env)).toEqual({ namespace: 'salesforce', objects: ['Account', 'Contact', 'Opportunity', 'OpportunityContactRole'] });
    expect(batchSizeNote(env)).toMatch(/^BATCH_SIZE=1000 \(the original pipeline's rows per Iceberg append\) is not applied: each object's sync commits one snapshot/);
    expect(batchSizeNote({})).toBeUndefined();
  });

  it("its names win over the local stack's settings as any user setting does, in the process environment and in .env.local", () => {
    const stack = "ICEBERG_CATALOG_URI='http://127.0.0.1:19120/iceberg'\nSYNC_NAMESPACE='stack'\n";
    const dir = home({ '.stack/stack.env': stack, '.env.local': 'ICEBERG_NAMESPACE=crm\n' });
    expect(loadSettings(dir, { ICEBERG_CATALOG_URL: 'http://127.0.0.1:8181/catalog' })).toMatchObject({
      ICEBERG_CATALOG_URI: 'http://127.0.0.1:8181/catalog',
      SYNC_NAMESPACE: 'crm',
    });
    // .env.local over .env, each name counted as its setting.
    const both = home({ '.env': 'ICEBERG_CATALOG_URI=http://a/iceberg\n', '.env.local': 'ICEBERG_CATALOG_URL=http://b/catalog\n' });
    expect(loadSettings(both, {}).ICEBERG_CATALOG_URI).toBe('http://b/catalog');
  });

  it('a 1Password reference left unresolved is named by variable, never shown, and nothing else is said of it', () => {
    const env = loadSettings(
      home({
        '.env.local': ORIGINAL.replace('"tok-secret-4711"', '"op://Personal/SalesforceToken/credential"').replace(
          '"http://lakekeeper.lakekeeper:8181/catalog"',
          '"op://Personal/lakekeeper/url"',
        ),
      }),
      {},
    );
    const problems = settingsProblems(env);
    expect(problems.sort()).toEqual([
      expect.stringMatching(/^ICEBERG_CATALOG_URL holds a 1Password reference \(op:\/\/\.\.\.\) that was not resolved/),
      expect.stringMatching(/^SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN holds a 1Password reference/),
    ]);
    for (const p of problems) expect(p).not.toMatch(/Personal|lakekeeper\/url/);
  });

  it('names resources as dlt did, or as Salesforce does', () => {
    expect(['account', 'opportunity_contact_role', 'sf_user', 'user_role', 'product_2', 'pricebook_entry', 'Invoice__c', 'Lead'].map(objectOfResource)).toEqual([
      'Account',
      'OpportunityContactRole',
      'User',
      'UserRole',
      'Product2',
      'PricebookEntry',
      'Invoice__c',
      'Lead',
    ]);
    expect(syncDefaults({ SALESFORCE_RESOURCES: 'account, Account,lead', WRITE_DISPOSITION: 'force_replace', ICEBERG_NAMESPACE: 'crm.raw' })).toEqual({
      namespace: 'crm.raw',
      objects: ['Account', 'Lead'],
      forceReplace: true,
    });
  });

  it('the reference lists the new settings and says which original names it reads', () => {
    const doc = (name: string) => SETTINGS.find((s) => s.name === name);
    expect(doc('ICEBERG_CATALOG_URI')?.description).toContain("also read as ICEBERG_CATALOG_URL, the original pipeline's name");
    expect(doc('SYNC_NAMESPACE')?.description).toContain('also read as ICEBERG_NAMESPACE');
    for (const name of ['BATCH_SIZE', 'WRITE_DISPOSITION', 'SALESFORCE_RESOURCES']) expect(doc(name), name).toBeDefined();
  });
});
