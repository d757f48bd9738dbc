import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, shown } from '../../src/settings/reference';
import { salesforceEnv } from '../../src/salesforce/settings';

describe('the settings reference', () => {
  it('documents every Salesforce variable the source reads, and the destination ones', () => {
    const names = SETTINGS.map((s) => s.name);
    for (const name of Object.values(salesforceEnv)) expect(names).toContain(name);
    const icebergSource = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'iceberg', 'settings.ts'), 'utf8');
    for (const name of icebergSource.match(/\b(?:ICEBERG|S3)_[A-Z0-9_]+\b/g) ?? []) expect(names).toContain(name);
  });

  it('never shows a secret', () => {
    const secret = SETTINGS.find((s) => s.name === 'S3_SECRET_ACCESS_KEY')!;
    expect(shown(secret, 'abc123secret')).toBe('set (12 characters, hidden)');
    expect(shown(SETTINGS.find((s) => s.name === 'S3_REGION')!, 'eu-west-1')).toBe('eu-west-1');
  });
});
