import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvFileError, envFileProblems, loadSettings, parseEnvFile, writeEnvFile } from '../../src/config/env-file';

const E = { password: 'SOURCES__SALESFORCE__CREDENTIALS__PASSWORD' };

describe('settings files', () => {
  it('reads the process env over .env over .stack/stack.env', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    writeEnvFile(path.join(home, '.stack', 'stack.env'), { A: 'stack', B: 'stack', C: 'stack' }, 'test');
    fs.writeFileSync(path.join(home, '.env'), 'B=dotenv\nC="dotenv # not a comment"\n');
    const settings = loadSettings(home, { C: 'process' });
    expect(settings).toMatchObject({ A: 'stack', B: 'dotenv', C: 'process' });
  });

  it("a Temporal profile chosen by name is not overridden by the local stack's Temporal address", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    writeEnvFile(path.join(home, '.stack', 'stack.env'), { TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', S3_BUCKET: 'warehouse' }, 'test');
    expect(loadSettings(home, { TEMPORAL_PROFILE: 'cloud' })).toEqual({ TEMPORAL_PROFILE: 'cloud', S3_BUCKET: 'warehouse' });
    expect(loadSettings(home, { TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other' })).toMatchObject({ TEMPORAL_NAMESPACE: 'other' });
    expect(loadSettings(home, {})).toMatchObject({ TEMPORAL_ADDRESS: '127.0.0.1:7233' });
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

describe('.env syntax errors are errors with the line number', () => {
  const FILES: [string, string, { line: number; name?: string; message: RegExp }][] = [
    [
      'unterminated double quote',
      'A=1\n# comment\nSOURCES__SALESFORCE__CREDENTIALS__PASSWORD="pw-secret-4711\nB=2\n',
      { line: 3, name: E.password, message: /opens a " quote that is never closed/ },
    ],
    ['unterminated single quote', "A='x\n", { line: 1, name: 'A', message: /opens a ' quote that is never closed/ }],
    ['not NAME=value', 'A=1\nthis is not a setting\n', { line: 2, message: /not a NAME=value line/ }],
    ['space in the name', 'MY VAR=1\n', { line: 1, message: /not a NAME=value line/ }],
    ['text after the closing quote', 'A="x"y\n', { line: 1, name: 'A', message: /text after the closing " quote/ }],
    ['a quote closed lines later by another value', 'A="x\nB="y"\n', { line: 2, name: 'A', message: /opened on line 1 closes on line 2/ }],
  ];

  it.each(FILES)('%s', (_what, text, expected) => {
    const [problem, ...rest] = envFileProblems(text);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: expected.line, ...(expected.name ? { name: expected.name } : {}) });
    expect(problem!.message).toMatch(expected.message);
  });

  it('accepts what dotenv reads as meant: comments, export, quotes, escapes, multi-line values', () => {
    expect(envFileProblems('# c\n\nexport A=1\nB = "x # y" # note\nC=\'it"s\'\nD="a\\"b"\nE="line 1\nline 2"\nF=plain # note\nG=\n')).toEqual([]);
  });

  it('loadSettings refuses a .env with an error, naming file, line and variable but not the value', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    fs.writeFileSync(path.join(home, '.env'), 'A=1\nS3_SECRET_ACCESS_KEY="s3-secret-4711\n');
    const error = (() => {
      try {
        loadSettings(home, {});
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(EnvFileError);
    expect(error!.message).toBe(`${path.join(home, '.env')} line 2: S3_SECRET_ACCESS_KEY: the value opens a " quote that is never closed`);
  });
});
