import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, parseEnvFile, writeEnvFile } from '../../src/config/env-file';

describe('settings files', () => {
  it('reads the process env over .env over .stack/stack.env', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    writeEnvFile(path.join(home, '.stack', 'stack.env'), { A: 'stack', B: 'stack', C: 'stack' }, 'test');
    fs.writeFileSync(path.join(home, '.env'), 'B=dotenv\nC="dotenv # not a comment"\n');
    const settings = loadSettings(home, { C: 'process' });
    expect(settings).toMatchObject({ A: 'stack', B: 'dotenv', C: 'process' });
  });

  it('works with neither file present', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    expect(loadSettings(home, { ONLY: 'env' })).toEqual({ ONLY: 'env' });
  });

  it('writes values that survive quoting and keeps the file private', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'settings-')), 'x.env');
    const values = { SECRET: 'a"b#c d=e', BOTH: 'it\'s \\n "x"', URL: 'http://127.0.0.1:8181/iceberg' };
    writeEnvFile(file, values, 'header');
    expect(parseEnvFile(fs.readFileSync(file, 'utf8'))).toEqual(values);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
