import { describe, expect, it } from 'vitest';
import { recordNumber, salesforceId } from '../../src/salesforce-sim/ids';
import { SIM_EPOCH_MS, iso } from '../../src/salesforce-sim/objects';
import { SimOrg } from '../../src/salesforce-sim/org';
import { SoqlError, parseSoql } from '../../src/salesforce-sim/soql';

/** Same suffix algorithm as salesforceId, applied to any 15-character id. */
function suffix(id15: string): string {
  const table = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (/[A-Z]/.test(id15[chunk * 5 + i]!)) bits |= 1 << i;
    out += table[bits];
  }
  return out;
}

describe('simulator ids', () => {
  it('carry Salesforce’s case-safe suffix', () => {
    expect(suffix('0015000000Gv7qJ')).toBe('AAR'); // Salesforce's documented example → 0015000000Gv7qJAAR
    const id = salesforceId('001', 123456);
    expect(id).toHaveLength(18);
    expect(id.slice(15)).toBe(suffix(id.slice(0, 15)));
    expect(recordNumber(id, '001')).toBe(123456);
    expect(salesforceId('001', 9) < salesforceId('001', 10)).toBe(true); // Id order = record order
  });
});

describe('simulator SOQL subset', () => {
  it('parses what the source sends', () => {
    const q = parseSoql(
      "SELECT Id, Name FROM Account WHERE (SystemModstamp > 2026-01-01T00:00:00.000Z OR (SystemModstamp = 2026-01-01T00:00:00.000Z AND Id > '001x')) AND IsDeleted = true ORDER BY SystemModstamp, Id DESC LIMIT 10",
    );
    expect(q).toMatchObject({
      fields: ['Id', 'Name'],
      object: 'Account',
      limit: 10,
      orderBy: [
        { field: 'SystemModstamp', desc: false },
        { field: 'Id', desc: true },
      ],
    });
    expect(q.where?.kind).toBe('and');
  });

  it('refuses malformed queries with MALFORMED_QUERY', () => {
    for (const bad of ['SELECT FROM Account', 'SELECT Id Account', 'SELECT Id FROM Account WHERE Name ~ 1', 'SELECT Id FROM Account LIMIT x']) {
      expect(() => parseSoql(bad), bad).toThrow(SoqlError);
    }
  });
});

describe('simulator datetimes', () => {
  it('are written as toISOString writes them', () => {
    for (let k = 0; k < 20_000; k++) {
      const ms = Math.round(-30_000_000_000_000 + k * 3_100_000_017.37);
      expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
    expect(iso(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('2024-02-29T23:59:59.999Z');
    expect(iso(-62_200_000_000_000)).toBe(new Date(-62_200_000_000_000).toISOString()); // before year 1000: the slow path
  });
});

describe('simulator record dates', () => {
  it('every record is created and stamped before the epoch, however many there are; small objects keep 37 s between records', () => {
    for (const rows of [1_000, 10_000_000]) {
      const org = new SimOrg({ Account: rows });
      const account = org.object('Account')!;
      const stamp = (n: number) => Date.parse(String(org.record(account, n, false)!.SystemModstamp));
      const created = (n: number) => Date.parse(String(org.record(account, n, false)!.CreatedDate));
      expect(stamp(rows - 1)).toBeLessThan(SIM_EPOCH_MS);
      expect(created(rows - 1)).toBeGreaterThan(created(0));
      if (rows === 1_000) expect(created(1) - created(0)).toBe(37_000);
    }
  });
});

describe('simulator formula fields and added fields', () => {
  it('a formula value changes (one row or every row) without SystemModstamp moving; other fields are refused', () => {
    const org = new SimOrg({ Account: 5 });
    const o = org.object('Account')!;
    const field = org.field(o, 'RatingScore__c')!;
    expect(field).toMatchObject({ calculated: true, label: 'Account Rating Score' });
    const before = [...org.records(o, false)];
    const id = String(before[1]!.Id);
    org.setFormula('Account', 'RatingScore__c', 1.5);
    org.setFormula('Account', 'RatingScore__c', 999.5, id);
    const after = [...org.records(o, false)];
    expect(after.map((r) => r.RatingScore__c)).toEqual([1.5, 999.5, 1.5, 1.5, 1.5]);
    expect(after.map((r) => r.SystemModstamp)).toEqual(before.map((r) => r.SystemModstamp));
    // The Bulk path generates unchanged rows field by field: the same value.
    expect(org.generated(o, field, 1)).toBe(999.5);
    expect(() => org.setFormula('Account', 'Name', 'x')).toThrow('Account.Name is not a formula field');
  });

  it('a field added to an object has its value on the rows already there', () => {
    const org = new SimOrg({ Account: 3 });
    org.addField('Account', { name: 'Segment__c', type: 'picklist', label: 'Segment', gen: () => 'Enterprise' });
    expect([...org.records(org.object('Account')!, false)].map((r) => r.Segment__c)).toEqual(['Enterprise', 'Enterprise', 'Enterprise']);
  });
});

describe('simulator COUNT() and the first rows of an ordered read', () => {
  it('COUNT() counts what the filter keeps; ORDER BY … LIMIT n gives the first n rows of the full order', () => {
    const org = new SimOrg({ Task: 3_000 });
    const where = 'CreatedDate >= 2024-01-01T00:00:00.000Z AND CreatedDate < 2025-01-01T00:00:00.000Z';
    const all = org.run(parseSoql(`SELECT Id, CreatedDate FROM Task WHERE ${where}`), false).numbers;
    const counted = parseSoql(`SELECT COUNT() FROM Task WHERE ${where}`);
    expect(counted).toMatchObject({ count: true, fields: [] });
    expect(org.run(counted, false).numbers).toHaveLength(all.length);
    expect(all.length).toBeGreaterThan(0);
    expect(all.length).toBeLessThan(3_000);
    for (const dir of ['ASC', 'DESC']) {
      const sorted = org.run(parseSoql(`SELECT CreatedDate FROM Task ORDER BY CreatedDate ${dir}, Id`), false).numbers;
      for (const n of [1, 5]) expect(org.run(parseSoql(`SELECT CreatedDate FROM Task ORDER BY CreatedDate ${dir}, Id LIMIT ${n}`), false).numbers).toEqual(sorted.slice(0, n));
    }
  });
});

describe('simulator CreatedDate index (large objects)', () => {
  it('a CreatedDate range and the first and last CreatedDate through the index match a scan of every row', () => {
    const org = new SimOrg({ Task: 30_000 });
    const task = org.object('Task')!;
    const created = [...Array(30_000).keys()].map((n) => ({ n, at: String(org.record(task, n, false)!.CreatedDate) }));
    // A test's own CreatedDate on one row: the index is passed by for it.
    const moved = org.update('Task', String(org.record(task, 7, false)!.Id), { CreatedDate: '2024-03-15T00:00:00.000Z' });
    created[7]!.at = String(moved.CreatedDate);
    const inRange = created.filter((r) => r.at >= '2024-03-01T00:00:00.000Z' && r.at < '2024-04-01T00:00:00.000Z').map((r) => r.n);
    expect(inRange).toContain(7);
    const range = org.run(parseSoql('SELECT Id FROM Task WHERE CreatedDate >= 2024-03-01T00:00:00.000Z AND CreatedDate < 2024-04-01T00:00:00.000Z'), false).numbers;
    expect(range).toEqual(inRange);
    const org2 = new SimOrg({ Task: 30_000 });
    expect(org2.run(parseSoql('SELECT CreatedDate FROM Task ORDER BY CreatedDate ASC LIMIT 1'), false).numbers).toEqual([
      [...Array(30_000).keys()].map((n) => ({ n, at: String(org2.record(task, n, false)!.CreatedDate) })).sort((a, b) => a.at.localeCompare(b.at) || a.n - b.n)[0]!.n,
    ]);
    const last = org2.run(parseSoql('SELECT CreatedDate FROM Task WHERE CreatedDate < 2025-01-01T00:00:00.000Z ORDER BY CreatedDate DESC LIMIT 1'), false).numbers;
    const before2025 = [...Array(30_000).keys()]
      .map((n) => String(org2.record(task, n, false)!.CreatedDate))
      .filter((at) => at < '2025-01-01T00:00:00.000Z')
      .sort();
    expect(String(org2.record(task, last[0]!, false)!.CreatedDate)).toBe(before2025.at(-1));
  });
});
