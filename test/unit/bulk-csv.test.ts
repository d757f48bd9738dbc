import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { planSchema } from '../../src/mapping/schema-mapping';
import { RowBuffer } from '../../src/parquet/writer';
import { BulkCsvPage, CsvFormatError } from '../../src/salesforce/bulk-csv';
import { decimalToUnscaled } from '../../src/parquet/columns';
import { readBoolean, readDateDays, readDatetimeMicros, readInteger, readNumber, readTimeMicros, readUnscaled } from '../../src/parquet/text';
import type { SalesforceField } from '../../src/salesforce/describe-types';
import { datetimeMicros, fromBulkCsv } from '../../src/salesforce/values';

const fields: SalesforceField[] = [
  { name: 'Id', type: 'id' },
  { name: 'Name', type: 'string' },
  { name: 'Description', type: 'textarea' },
  { name: 'IsActive__c', type: 'boolean' },
  { name: 'AnnualRevenue', type: 'currency', precision: 18, scale: 2 },
  { name: 'NumberOfEmployees', type: 'int' },
  { name: 'Rating__c', type: 'percent' },
  { name: 'Score__c', type: 'double' },
  { name: 'SystemModstamp', type: 'datetime' },
  { name: 'Since__c', type: 'date' },
  { name: 'CallAt__c', type: 'time' },
];

const q = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);

/** A page with awkward values: quotes, commas, line breaks, non-ASCII, nulls, both datetime forms. */
function page(rows: number, lineEnd = '\n'): string {
  const lines = [fields.map((f) => q(f.name)).join(',')];
  for (let n = 0; n < rows; n++) {
    const ms = Date.UTC(1999 + (n % 40), n % 12, 1 + (n % 28), n % 24, (n * 7) % 60, (n * 13) % 60, n % 1000);
    lines.push(
      [
        q(`001${String(n).padStart(15, '0')}`),
        q(n % 5 === 0 ? `Zürich "Quoted", Co ${n}` : n % 7 === 0 ? '😀 emoji' : `Account ${n}`),
        q(n % 3 === 0 ? null : `Line one\nLine "two", ${n}`),
        q(n % 2 === 0 ? 'true' : 'false'),
        q(n % 4 === 0 ? null : n % 9 === 0 ? `-${n}.5` : n % 11 === 0 ? '1234567890123456.78' : `${n * 13}.${String(n % 100).padStart(2, '0')}`),
        q(n % 6 === 0 ? null : String(n * 17)),
        q(String((n % 10000) / 100)),
        q(String(n / 7)),
        q(n % 2 === 0 ? new Date(ms).toISOString() : new Date(ms).toISOString().replace('Z', '+0000')),
        q(n % 8 === 0 ? null : new Date(ms).toISOString().slice(0, 10)),
        q(n % 5 === 0 ? null : `${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:07.${String(n % 1000).padStart(3, '0')}Z`),
      ].join(','),
    );
  }
  return `${lines.join(lineEnd)}${lineEnd}`;
}

describe('Bulk API CSV pages', () => {
  it('read the same cells as csv-parse, with LF and CRLF line endings', () => {
    for (const lineEnd of ['\n', '\r\n']) {
      const text = page(300, lineEnd);
      const csv = new BulkCsvPage(Buffer.from(text), fields);
      const reference = parse(text, { skip_empty_lines: true }) as string[][];
      expect(csv.header).toEqual(reference[0]);
      expect(csv.length).toBe(reference.length - 1);
      for (let r = 0; r < csv.length; r++) {
        for (let f = 0; f < fields.length; f++) expect(csv.text(r, f)).toBe(reference[r + 1]![f] === '' ? null : reference[r + 1]![f]);
      }
      expect(csv.rows).toEqual(reference.slice(1).map((cells) => cells.map((c, f) => (c === '' ? null : fromBulkCsv(fields[f]!.type, c)))));
    }
  });

  it('fill column builders column by column exactly as row by row', () => {
    const csv = new BulkCsvPage(Buffer.from(page(2000)), fields);
    const schema = planSchema(fields, { naming: 'snake_case' }).schema;
    const byRow = new RowBuffer(schema.fields);
    for (const row of csv.rows) byRow.appendRow(row);
    const byColumn = new RowBuffer(schema.fields);
    const all = fields.map((_, i) => i);
    // In uneven chunks, as the writer cuts row groups.
    for (let from = 0; from < csv.length; from += 333) csv.columns(all).appendTo(byColumn.builders, from, Math.min(csv.length, from + 333));
    const a = byRow.toRecordBatch();
    const b = byColumn.toRecordBatch();
    for (let c = 0; c < schema.fields.length; c++) {
      expect(b.getChildAt(c)!.toArray(), schema.fields[c]!.name).toEqual(a.getChildAt(c)!.toArray());
      expect(b.getChildAt(c)!.nullCount).toBe(a.getChildAt(c)!.nullCount);
    }
    expect(byColumn.builders.map((x) => x.metrics())).toEqual(byRow.builders.map((x) => x.metrics()));
    // Something in every column, and a non-ASCII string as the maximum (byte order = code points).
    expect(byColumn.builders.every((x) => x.metrics().valueCount === 2000)).toBe(true);
    expect(byColumn.builders[1]!.metrics().max).toBe('😀 emoji');
  });

  it('map header columns by name, in any order, and fill absent fields with nulls', () => {
    const csv = new BulkCsvPage(Buffer.from('"Name","ID"\n"b","001000000000000002"\n"a","001000000000000001"\n'), [fields[0]!, fields[1]!, fields[3]!]);
    expect(csv.rows).toEqual([
      ['001000000000000002', 'b', null],
      ['001000000000000001', 'a', null],
    ]);
    // Output columns: Name, IsActive__c (not in the page), Id, and one Salesforce no longer has.
    const schema = planSchema([fields[1]!, fields[3]!, fields[0]!, fields[2]!], { naming: 'snake_case' }).schema;
    const buffer = new RowBuffer(schema.fields.map((f) => ({ ...f, required: false })));
    const pageField: Record<string, number> = { id: 0, name: 1, is_active_c: 2, description: -1 };
    csv.columns(schema.fields.map((f) => pageField[f.name]!)).appendTo(buffer.builders, 0, 2);
    const metrics = Object.fromEntries(schema.fields.map((f, i) => [f.name, buffer.builders[i]!.metrics()]));
    expect(metrics).toMatchObject({
      id: { nullCount: 0, min: '001000000000000001', max: '001000000000000002' },
      name: { nullCount: 0, min: 'a', max: 'b' },
      is_active_c: { nullCount: 2 },
      description: { nullCount: 2 },
    });
  });

  it('refuse malformed CSV with a clear error', () => {
    expect(() => new BulkCsvPage(Buffer.from('"Id","Name"\n"1","a"\n"2"\n'), fields)).toThrow(/row 2 has 1 cells, the header 2/);
    expect(() => new BulkCsvPage(Buffer.from('"Id"\n"1\n'), fields)).toThrow(CsvFormatError);
    expect(() => new BulkCsvPage(Buffer.from('"Id"\n"1"x\n'), fields)).toThrow(/unexpected byte/);
    expect(new BulkCsvPage(Buffer.from(''), fields).length).toBe(0);
    expect(new BulkCsvPage(Buffer.from('"Id","Name"\n'), fields).length).toBe(0);
  });

  it('read datetimes, dates and times digit by digit as Date.parse does', () => {
    const at = (s: string) => [Buffer.from(s), 0, s.length] as const;
    for (let k = 0; k < 5000; k++) {
      const ms = Math.round(((k * 7919.123457 - 20_000) * 86_400_000) / 3) + (k % 1000);
      const iso = new Date(ms).toISOString();
      if (iso.length !== 24) continue; // years beyond 9999 are written with a sign
      expect(readDatetimeMicros(...at(iso))).toBe(datetimeMicros(iso));
      expect(readDatetimeMicros(...at(iso.replace('Z', '+0000')))).toBe(datetimeMicros(iso.replace('Z', '+0000')));
      expect(readDateDays(...at(iso.slice(0, 10)))).toBe(Math.round(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86_400_000));
    }
    // Other shapes go to the general parser.
    expect(readDatetimeMicros(...at('2026-01-01T10:00:00.000+0200'))).toBeUndefined();
    expect(readDatetimeMicros(...at('2026-01-01T10:00:00Z'))).toBeUndefined();
    expect(readDateDays(...at('2026-13-01'))).toBeUndefined();
    expect(readTimeMicros(...at('23:59:59.999Z'))).toBe(86_399_999_000);
    expect(readTimeMicros(...at('08:30:00'))).toBe(30_600_000_000);
    expect(readTimeMicros(...at('8:30'))).toBeUndefined();
  });

  it('read numbers digit by digit exactly as Number does', () => {
    const at = (s: string) => [Buffer.from(s), 0, s.length] as const;
    for (let k = 0; k < 20_000; k++) {
      const texts = [String(k / 7), (k * 1.37 - 5000).toFixed(k % 6), String(-k * 104_729), `${k % 97}.${String(k).padStart(6, '0')}`];
      for (const t of texts) {
        const v = readNumber(...at(t));
        if (v !== undefined) expect(v, t).toBe(Number(t));
        else expect(t.replace(/[-.]/g, '').length > 15 || /e/.test(t), t).toBe(true);
      }
    }
    expect(readNumber(...at('1e5'))).toBeUndefined();
    expect(readNumber(...at('1.2.3'))).toBeUndefined();
    expect(readNumber(...at('-0'))).toBe(-0);
    expect(readInteger(...at('-9007199254'))).toBe(-9007199254);
    expect(readInteger(...at('5.0'))).toBeUndefined();
    expect(readInteger(...at('1234567890123456'))).toBeUndefined(); // 16 digits: the general path
    for (const t of ['0', '-0.5', '12.5', '123456789.99', '-42', '.25', '7.', '9999999999999.9']) {
      expect(readUnscaled(...at(t), 2, 18), t).toBe(Number(decimalToUnscaled(t, 2, 18)));
    }
    expect(readUnscaled(...at('1.234'), 2, 18)).toBeUndefined(); // rounding: the general path
    expect(readUnscaled(...at('1e3'), 2, 18)).toBeUndefined();
    expect(readUnscaled(...at('99999999999999.9'), 2, 18)).toBeUndefined(); // 16 digits once scaled: the general path
    expect(readUnscaled(...at('100'), 2, 4)).toBeUndefined(); // does not fit: the general path says so
    expect([readBoolean(...at('true')), readBoolean(...at('false')), readBoolean(...at('True'))]).toEqual([true, false, undefined]);
  });
});
