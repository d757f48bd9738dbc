import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingsReferenceMarkdown, shown } from '../../src/settings/reference';
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

  it("is the README's settings reference, as `npm run env -- settings --markdown` prints it", () => {
    // Wherever the user docs keep it: README.md or a page of docs/.
    const root = path.join(__dirname, '..', '..');
    const docs = fs.existsSync(path.join(root, 'docs'))
      ? fs
          .readdirSync(path.join(root, 'docs'))
          .filter((f) => f.endsWith('.md'))
          .map((f) => path.join('docs', f))
      : [];
    const found = ['README.md', ...docs].flatMap((file) =>
      [...fs.readFileSync(path.join(root, file), 'utf8').matchAll(/<!-- settings-reference[^\n]*-->\n([\s\S]*?)\n<!-- \/settings-reference -->/g)].map((m) => m[1]),
    );
    expect(found).toEqual([settingsReferenceMarkdown()]);
  });

  it('documents every setting of every area, by name, and never a value of the environment', () => {
    const markdown = settingsReferenceMarkdown();
    for (const s of SETTINGS) expect(markdown).toContain(`| \`${s.name}\` |`);
    const before = settingsReferenceMarkdown();
    process.env.S3_SECRET_ACCESS_KEY = 'reference-secret-4711';
    process.env.WORKER_MAX_ACTIVITIES = '31';
    try {
      expect(settingsReferenceMarkdown()).toBe(before);
      expect(before).not.toContain('reference-secret-4711');
    } finally {
      delete process.env.S3_SECRET_ACCESS_KEY;
      delete process.env.WORKER_MAX_ACTIVITIES;
    }
    expect(markdown).toMatch(/\| `S3_SECRET_ACCESS_KEY` \| static S3 secret key \(a secret: never shown\) \|/);
  });
});
