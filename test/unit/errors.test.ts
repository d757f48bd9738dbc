import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, SyncError } from '../../src/errors';
import { readAvroFile } from '../../src/iceberg/avro-file';
import type { RestCatalog } from '../../src/iceberg/catalog';
import { encodeManifest } from '../../src/iceberg/manifest';
import { EntryStatus, FileContent, ManifestContent, type ManifestFile, type Schema } from '../../src/iceberg/spec';
import { IcebergTable } from '../../src/iceberg/table';
import { RewriteConflictError } from '../../src/iceberg/errors';
import { decimalToUnscaled, makeColumnBuilder } from '../../src/parquet/columns';
import { CheckFailure } from '../../src/preflight/checks';
import { buildSoql } from '../../src/salesforce/soql';
import type { SObjectDescribe } from '../../src/salesforce/describe';
import { splitS3Uri } from '../../src/storage/object-store';
import { LocalObjectStore } from '../../src/storage/local-fs';
import { classifyFailure } from '../../src/sync/failures';
import { syncArea } from '../../src/sync/settings';

const root = path.join(__dirname, '..', '..');

/** Built-in error constructors: what the product throws is a SyncError (src/errors.ts) instead. */
const PLAIN_ERROR =
  /\bnew\s+(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\s*\(|\bextends\s+(Error|TypeError|RangeError)\b|\bthrow\s+['"`]/;

/**
 * The product's source: src/ and the activities (their failures become Temporal's). Left out:
 * src/errors.ts, where SyncError itself extends Error, and the Salesforce simulator, a stand-in
 * server whose errors never reach the sync as thrown errors: it answers them over HTTP as
 * Salesforce would (400 with an errorCode, 500 UNKNOWN_EXCEPTION), and the product's client
 * classifies those answers like Salesforce's own.
 */
const EXEMPT = [/^src\/errors\.ts$/, /^src\/salesforce-sim\//];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !EXEMPT.some((x) => x.test(rel)) ? [rel] : [];
  });
}

/** Lines of code (comments skipped) that make a plain Error: `file:line: text`. */
function plainErrors(file: string): string[] {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  return lines.flatMap((line, i) => {
    const code = line.trim();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return [];
    return PLAIN_ERROR.test(code.replace(/\s\/\/\s.*$/, '')) ? [`${file}:${i + 1}: ${code}`] : [];
  });
}

describe('every error the product raises is a SyncError', () => {
  it('the pattern catches the forms a plain Error takes', () => {
    for (const line of ["throw new Error('x');", 'reject(new TypeError(`y`))', 'const e = new RangeError("z");', 'class Bad extends Error {}', "throw 'x';"]) {
      expect(line).toMatch(PLAIN_ERROR);
    }
    for (const line of ["throw new SyncError('x', { code: ERROR_CODES.INTERNAL, retryable: false });", 'class CatalogError extends SyncError {', 'new ErrorBox()']) {
      expect(line).not.toMatch(PLAIN_ERROR);
    }
  });

  it('no plain Error in src/ (the simulator aside) or activities/: each throw site says its code and whether a retry can help', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('activities')];
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain('src/iceberg/table.ts');
    expect(files.flatMap(plainErrors)).toEqual([]);
  });
});

describe('what can never heal is not retried', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errors-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The error `run` throws, classified as the activities classify it. */
  async function failureOf(run: () => unknown): Promise<{ error: unknown; retryable: boolean; code: string; message: string }> {
    try {
      await run();
    } catch (error) {
      return { error, ...classifyFailure(error) };
    }
    throw new SyncError('expected a failure', { code: ERROR_CODES.INTERNAL, retryable: false });
  }

  it('a table with equality delete files: TABLE_UNSUPPORTED, not retried', async () => {
    const schema: Schema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'string' }] };
    const manifestPath = path.join(dir, 'deletes.avro');
    const deleteFile = {
      content: FileContent.EqualityDeletes,
      filePath: 'file:///x/eq.parquet',
      fileFormat: 'PARQUET' as const,
      recordCount: 1n,
      fileSizeInBytes: 10n,
      equalityIds: [1],
    };
    const entries = [{ status: EntryStatus.Added, snapshotId: 1n, sequenceNumber: 1n, fileSequenceNumber: 1n, dataFile: deleteFile }];
    fs.writeFileSync(manifestPath, encodeManifest({ schema, spec: { 'spec-id': 0, fields: [] }, content: ManifestContent.Deletes, entries }));
    const manifest = { manifestPath: pathToFileURL(manifestPath).href, content: ManifestContent.Deletes, sequenceNumber: 1n, addedSnapshotId: 1n } as ManifestFile;
    const table = new IcebergTable(undefined as unknown as RestCatalog, ['ns'], 't', undefined as never, new LocalObjectStore());

    const f = await failureOf(() => table.liveEntriesOf([manifest]));
    expect(f).toMatchObject({ retryable: false, code: 'TABLE_UNSUPPORTED', message: 'ns.t has equality delete files, which this reader does not apply' });
  });

  it('a manifest that is not Avro: TABLE_INVALID, not retried', async () => {
    const f = await failureOf(() => readAvroFile(new TextEncoder().encode('{"not": "avro"}')));
    expect(f).toMatchObject({ retryable: false, code: 'TABLE_INVALID', message: 'not an Avro object container file' });
  });

  it('a Salesforce value that does not fit its column: VALUE_INVALID, not retried', async () => {
    const builder = makeColumnBuilder({ id: 1, name: 'NumberOfEmployees', required: false, type: 'int' });
    const f = await failureOf(() => builder.append(3_000_000_000));
    expect(f).toMatchObject({ retryable: false, code: 'VALUE_INVALID', message: 'column NumberOfEmployees: 3000000000 is not a 32-bit integer' });
    const d = await failureOf(() => decimalToUnscaled('12345.6', 2, 5, 'Amount'));
    expect(d).toMatchObject({ retryable: false, code: 'VALUE_INVALID', message: 'column Amount: 12345.6 does not fit decimal(5, 2)' });
  });

  it('a read of a field the object no longer has: UNKNOWN_FIELD, not retried', async () => {
    const describe = { name: 'Account', fields: [{ name: 'Id' }, { name: 'Name' }] } as unknown as SObjectDescribe;
    const f = await failureOf(() => buildSoql(describe, ['Id', 'Gone__c']));
    expect(f).toMatchObject({ retryable: false, code: 'UNKNOWN_FIELD', message: 'Account has no field Gone__c' });
  });

  it('invalid settings: SETTINGS_INVALID, not retried', async () => {
    const f = await failureOf(() => syncArea.parse({ SYNC_LAG_MS: 'soon' }));
    expect(f.retryable).toBe(false);
    expect(f.code).toBe('SETTINGS_INVALID');
    expect(f.message).toMatch(/^Invalid sync settings:\n {2}- SYNC_LAG_MS/);
  });

  it('a table location that is not on S3: SETTINGS_INVALID, not retried', async () => {
    const f = await failureOf(() => splitS3Uri('gs://bucket/warehouse/t'));
    expect(f).toMatchObject({ retryable: false, code: 'SETTINGS_INVALID', message: 'not an s3:// URI: gs://bucket/warehouse/t' });
  });

  it('what may heal stays retried: a compaction that lost the race to another commit', () => {
    expect(classifyFailure(new RewriteConflictError('2 of the files being rewritten were removed by another commit'))).toEqual({
      retryable: true,
      code: 'COMMIT_CONFLICT',
      message: '2 of the files being rewritten were removed by another commit',
    });
  });

  it("a preflight check's problem is a SyncError too (never retried: the person fixes what it names)", () => {
    const failure = new CheckFailure('no answer', 'check S3_ENDPOINT');
    expect(failure).toBeInstanceOf(SyncError);
    expect(failure).toMatchObject({ code: 'CHECK_FAILED', retryable: false, fix: 'check S3_ENDPOINT', name: 'CheckFailure' });
  });
});
