import { describe, expect, it } from 'vitest';
import { compareCodePoints, decodeBound, encodeBound, truncateLowerString, truncateUpperString, twosComplementBigEndian } from '../../src/iceberg/spec/bounds';
import { decimalToUnscaled } from '../../src/parquet/columns';
import { RowBuffer } from '../../src/parquet/writer';

describe('single-value bound encoding', () => {
  it('round-trips every type the sink writes', () => {
    const cases: [Parameters<typeof encodeBound>[0], unknown][] = [
      ['boolean', true],
      ['int', -123456],
      ['date', 20455],
      ['long', -(2n ** 62n)],
      ['timestamptz', 1767323045123456n],
      ['time', 47655500000n],
      ['double', -1.25],
      ['float', 0.5],
      ['string', 'Ünïcode 😀'],
      ['decimal(18, 2)', -123456789012345678n],
    ];
    for (const [type, value] of cases) expect(decodeBound(type, encodeBound(type, value)), type).toEqual(value);
  });

  it('encodes as the spec says: little-endian numbers, big-endian minimal two’s complement decimals', () => {
    expect([...encodeBound('int', 1)]).toEqual([1, 0, 0, 0]);
    expect([...encodeBound('long', 1n)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect([...twosComplementBigEndian(0n)]).toEqual([0]);
    expect([...twosComplementBigEndian(127n)]).toEqual([0x7f]);
    expect([...twosComplementBigEndian(128n)]).toEqual([0x00, 0x80]);
    expect([...twosComplementBigEndian(-1n)]).toEqual([0xff]);
    expect([...twosComplementBigEndian(-129n)]).toEqual([0xff, 0x7f]);
  });

  it('orders strings as UTF-8 bytes do, unlike JavaScript’s <', () => {
    const samples = ['a', 'b', '\uffff', '😀', '\ue000', 'é', 'z', '', 'aa', '\u0800'];
    const byBytes = [...samples].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...samples].sort(compareCodePoints)).toEqual(byBytes);
    expect('😀' < '\uffff').toBe(true); // what JavaScript would get wrong
    expect(compareCodePoints('😀', '\uffff')).toBeGreaterThan(0);
  });

  it('truncates to 16 code points; the upper bound stays above every value it covers', () => {
    const long = 'Account-Name-Very-Long-1234';
    expect(truncateLowerString(long)).toBe('Account-Name-Ver');
    const upper = truncateUpperString(long)!;
    expect(upper).toBe('Account-Name-Ves');
    expect(compareCodePoints(upper, long)).toBeGreaterThan(0);
    expect(truncateUpperString('short')).toBe('short');
  });
});

describe('exact decimals', () => {
  it('scales text to unscaled integers, rounding half up', () => {
    expect(decimalToUnscaled('12.5', 2, 18)).toBe(1250n);
    expect(decimalToUnscaled('-0.005', 2, 18)).toBe(-1n);
    expect(decimalToUnscaled('1e3', 2, 18)).toBe(100000n);
    expect(decimalToUnscaled('123456789012345678.9', 1, 38)).toBe(1234567890123456789n);
    expect(decimalToUnscaled('0.004', 2, 18)).toBe(0n);
  });

  it('refuses what is not a number or does not fit', () => {
    expect(() => decimalToUnscaled('abc', 2, 18, 'Amount')).toThrow('column Amount: "abc" is not a decimal number');
    expect(() => decimalToUnscaled('1234567890123456789', 2, 18)).toThrow(/does not fit decimal\(18, 2\)/);
  });
});

describe('column metrics', () => {
  it('string min/max follow code-point order even after native-order values', () => {
    const buffer = new RowBuffer([{ id: 1, name: 's', required: false, type: 'string' }]);
    for (const v of ['m', 'b', null, '\uffff', '😀', 'a']) buffer.appendRow([v]);
    const m = buffer.builders[0]!.metrics();
    expect(m).toMatchObject({ valueCount: 6, nullCount: 1, min: 'a', max: '😀' });
  });

  it('64-bit and decimal columns keep exact min/max across number and BigInt values', () => {
    const buffer = new RowBuffer([
      { id: 1, name: 'l', required: false, type: 'long' },
      { id: 2, name: 'd', required: false, type: 'decimal(38, 2)' },
    ]);
    buffer.appendRow([5, 1n]);
    buffer.appendRow([-(2n ** 62n), '-99999999999999999999.99']);
    buffer.appendRow([2n ** 62n, -7n]);
    const [l, d] = buffer.builders.map((b) => b.metrics());
    expect(l).toMatchObject({ min: -(2n ** 62n), max: 2n ** 62n });
    expect(d).toMatchObject({ min: -9999999999999999999999n, max: 1n });
  });
});
