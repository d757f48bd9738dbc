import { describe, expect, it } from 'vitest';
import {
  applyTransform,
  bindSpec,
  buildSpec,
  canonicalValue,
  humanValue,
  murmur3,
  parsePartitionField,
  partitionFieldName,
  transformMismatch,
  transformName,
} from '../../src/iceberg/spec/partition';
import type { NestedField } from '../../src/iceberg/spec';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const long8 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
};

describe('partition transforms', () => {
  // The hash values of the Iceberg spec's appendix "32-bit Hash Requirements".
  it('hashes as the spec requires (murmur3 x86 32)', () => {
    expect(murmur3(long8(34n))).toBe(2017239379);
    expect(murmur3(long8(17486n))).toBe(-653330422); // date 2017-11-16
    expect(murmur3(long8(81068000000n))).toBe(-662762989); // time 22:31:08
    expect(murmur3(long8(1510871468000000n))).toBe(-2047944441); // timestamp 2017-11-16T22:31:08
    expect(murmur3(Buffer.from('iceberg'))).toBe(1210000089);
    expect(murmur3(bytes('f79c3e09677c4bbda4793f349cb785e7'))).toBe(1488055340);
    expect(murmur3(bytes('00010203'))).toBe(-188683207);
    expect(murmur3(bytes('058c'))).toBe(-500754589); // decimal 14.20
  });

  it('buckets by the positive hash modulo N', () => {
    expect(applyTransform({ kind: 'bucket', n: 16 }, 'string', 'iceberg')).toBe((1210000089 & 0x7fffffff) % 16);
    expect(applyTransform({ kind: 'bucket', n: 100 }, 'date', 17486)).toBe((-653330422 & 0x7fffffff) % 100);
    expect(applyTransform({ kind: 'bucket', n: 7 }, 'decimal(9, 2)', 1420n)).toBe((-500754589 & 0x7fffffff) % 7);
  });

  it('cuts time into years, months, days and hours since 1970, before 1970 too', () => {
    const ts = canonicalValue('timestamptz', '2017-11-16T22:31:08.000Z') as bigint;
    expect(ts).toBe(1510871468000000n);
    expect(applyTransform({ kind: 'year' }, 'timestamptz', ts)).toBe(47);
    expect(applyTransform({ kind: 'month' }, 'timestamptz', ts)).toBe(47 * 12 + 10);
    expect(applyTransform({ kind: 'day' }, 'timestamptz', ts)).toBe(17486);
    expect(applyTransform({ kind: 'hour' }, 'timestamptz', ts)).toBe(Math.floor(1510871468 / 3600));
    expect(applyTransform({ kind: 'month' }, 'date', canonicalValue('date', '2017-11-16'))).toBe(574);
    const before = canonicalValue('timestamp', '1969-12-31T23:59:59.999999Z') as bigint;
    expect(before).toBe(-1n);
    expect(applyTransform({ kind: 'day' }, 'timestamp', before)).toBe(-1);
    expect(applyTransform({ kind: 'hour' }, 'timestamp', before)).toBe(-1);
    expect(applyTransform({ kind: 'month' }, 'timestamp', before)).toBe(-1);
    expect(applyTransform({ kind: 'year' }, 'timestamp', before)).toBe(-1);
    expect(humanValue({ transform: { kind: 'month' }, type: 'int' }, 574)).toBe('2017-11');
    expect(humanValue({ transform: { kind: 'month' }, type: 'int' }, -1)).toBe('1969-12');
  });

  it('truncates as the spec says (floor for numbers, code points for text)', () => {
    expect(applyTransform({ kind: 'truncate', width: 10 }, 'int', 1)).toBe(0);
    expect(applyTransform({ kind: 'truncate', width: 10 }, 'int', -1)).toBe(-10);
    expect(applyTransform({ kind: 'truncate', width: 10 }, 'long', -1n)).toBe(-10n);
    expect(applyTransform({ kind: 'truncate', width: 50 }, 'decimal(9, 2)', 1065n)).toBe(1050n);
    expect(applyTransform({ kind: 'truncate', width: 3 }, 'string', 'iceberg')).toBe('ice');
    expect(applyTransform({ kind: 'truncate', width: 2 }, 'string', '😀😀😀')).toBe('😀😀');
    expect(applyTransform({ kind: 'identity' }, 'string', null)).toBeNull();
  });

  it('reads what users write, and says what is wrong', () => {
    expect(parsePartitionField('month(CreatedDate)')).toMatchObject({ transform: { kind: 'month' }, column: 'CreatedDate' });
    expect(parsePartitionField('months(CreatedDate)').transform).toEqual({ kind: 'month' });
    expect(parsePartitionField('bucket(16, AccountId)')).toMatchObject({ transform: { kind: 'bucket', n: 16 }, column: 'AccountId' });
    expect(parsePartitionField('bucket[16](AccountId)').transform).toEqual({ kind: 'bucket', n: 16 });
    expect(parsePartitionField('truncate(4, Name)').transform).toEqual({ kind: 'truncate', width: 4 });
    expect(parsePartitionField('Type')).toMatchObject({ transform: { kind: 'identity' }, column: 'Type' });
    expect(() => parsePartitionField('weekly(CreatedDate)')).toThrow(/unknown transform "weekly"/);
    expect(() => parsePartitionField('bucket(AccountId)')).toThrow(/bucket needs a count/);
    expect(() => parsePartitionField('bucket(0, AccountId)')).toThrow(/positive whole number/);
    expect(() => parsePartitionField('month(')).toThrow(/not a column or a transform/);
    expect(transformMismatch({ kind: 'month' }, 'string')).toMatch(/date or timestamp/);
    expect(transformMismatch({ kind: 'hour' }, 'date')).toMatch(/timestamp/);
    expect(transformMismatch({ kind: 'bucket', n: 4 }, 'double')).toMatch(/cannot hash/);
    expect(transformMismatch({ kind: 'truncate', width: 4 }, 'timestamptz')).toMatch(/truncate needs/);
    expect(transformMismatch({ kind: 'day' }, 'timestamptz')).toBeUndefined();
    expect(transformName({ kind: 'bucket', n: 16 })).toBe('bucket[16]');
    expect(partitionFieldName({ kind: 'month' }, 'created_date')).toBe('created_date_month');
  });

  it('builds specs whose field ids stay with their field across evolution', () => {
    const created: NestedField = { id: 3, name: 'created_date', required: false, type: 'timestamptz' };
    const account: NestedField = { id: 5, name: 'account_id', required: false, type: 'string' };
    const first = buildSpec([{ transform: { kind: 'month' }, source: created }], { specId: 0, earlier: [], lastPartitionId: 999 });
    expect(first.spec.fields).toEqual([{ 'source-id': 3, 'field-id': 1000, name: 'created_date_month', transform: 'month' }]);
    const second = buildSpec(
      [
        { transform: { kind: 'month' }, source: created },
        { transform: { kind: 'bucket', n: 8 }, source: account },
      ],
      { specId: 1, earlier: [first.spec], lastPartitionId: first.lastPartitionId },
    );
    expect(second.spec.fields.map((f) => f['field-id'])).toEqual([1000, 1001]);
    expect(second.lastPartitionId).toBe(1001);
    const bound = bindSpec(second.spec, { type: 'struct', 'schema-id': 0, fields: [created, account] });
    expect(bound.fields.map((f) => f.type)).toEqual(['int', 'int']);
    expect(() =>
      buildSpec(
        [
          { transform: { kind: 'month' }, source: created },
          { transform: { kind: 'month' }, source: created },
        ],
        { specId: 2, earlier: [], lastPartitionId: 999 },
      ),
    ).toThrow(/given twice/);
  });
});
