import { describe, expect, it } from 'vitest';
import { parseIcebergSettings } from '../../src/iceberg/settings';
import { IncompatibleSchemaError } from '../../src/iceberg/errors';
import { FORMULA_DOC, TIME_TEXT_DOC, columnDoc, icebergTypeOf, planSchema, snakeCase } from '../../src/mapping/schema-mapping';
import type { SalesforceField } from '../../src/salesforce/describe-types';

describe('names', () => {
  it('snake_case like dlt', () => {
    expect(snakeCase('OpportunityContactRole')).toBe('opportunity_contact_role');
    expect(snakeCase('SystemModstamp')).toBe('system_modstamp');
    expect(snakeCase('my_field__c')).toBe('my_field_c');
    expect(snakeCase('My_Field__c')).toBe('my_field_c');
    expect(snakeCase('IsDeleted')).toBe('is_deleted');
    expect(snakeCase('SLAExpirationDate__c')).toBe('sla_expiration_date_c');
    expect(snakeCase('Name2__c')).toBe('name2_c');
    expect(snakeCase('1stField')).toBe('_1st_field');
    expect(snakeCase('trailing_')).toBe('trailingx');
  });
});

describe('Salesforce → Iceberg types', () => {
  const t = (type: SalesforceField['type'], extra: Partial<SalesforceField> = {}) => icebergTypeOf({ name: 'F', type, ...extra });
  it('maps every type in one table', () => {
    for (const s of ['id', 'string', 'textarea', 'picklist', 'multipicklist', 'reference', 'email', 'phone', 'url', 'combobox', 'encryptedstring'] as const)
      expect(t(s)).toBe('string');
    expect(t('boolean')).toBe('boolean');
    expect(t('int')).toBe('int');
    expect(t('long')).toBe('long');
    expect(t('double')).toBe('double');
    expect(t('percent')).toBe('double');
    expect(t('currency', { precision: 16, scale: 4 })).toBe('decimal(16, 4)');
    expect(t('date')).toBe('date');
    expect(t('datetime')).toBe('timestamptz');
    // Spark cannot load a table with an Iceberg time column: text unless asked otherwise.
    expect(t('time')).toBe('string');
    expect(icebergTypeOf({ name: 'F', type: 'time' }, 'time')).toBe('time');
    expect(t('base64')).toBe('binary');
    expect(() => t('address')).toThrow(IncompatibleSchemaError);
  });
});

describe('Salesforce times', () => {
  const fields: SalesforceField[] = [
    { name: 'Id', type: 'id' },
    { name: 'CallAt__c', type: 'time' },
  ];
  it('become a text column whose doc says what it holds, or an Iceberg time column on request', () => {
    expect(planSchema(fields, { naming: 'snake_case' }).schema.fields[1]).toEqual({ id: 2, name: 'call_at_c', required: false, type: 'string', doc: TIME_TEXT_DOC });
    expect(planSchema(fields, { naming: 'snake_case', timeAs: 'time' }).schema.fields[1]).toEqual({ id: 2, name: 'call_at_c', required: false, type: 'time' });
  });
  it('keep the type of a column made under the other mapping: no type change is tried', () => {
    for (const [made, now] of [
      ['time', 'string'],
      ['string', 'time'],
    ] as const) {
      const current = planSchema(fields, { naming: 'snake_case', timeAs: made }).schema;
      const plan = planSchema(fields, { naming: 'snake_case', timeAs: now, current, lastColumnId: 2 });
      expect(plan.changed).toBe(false);
      expect(plan.columns[1]!.field.type).toBe(made);
    }
  });
});

describe('schema planning', () => {
  const base: SalesforceField[] = [
    { name: 'Name', type: 'string' },
    { name: 'Id', type: 'id' },
    { name: 'Amount', type: 'currency', precision: 10, scale: 2 },
    { name: 'Count__c', type: 'int' },
  ];

  it('puts Id first, required, as the identifier; ids from 1', () => {
    const plan = planSchema(base, { naming: 'snake_case' });
    expect(plan.schema.fields.map((f) => [f.id, f.name, f.required])).toEqual([
      [1, 'id', true],
      [2, 'name', false],
      [3, 'amount', false],
      [4, 'count_c', false],
    ]);
    expect(plan.schema['identifier-field-ids']).toEqual([1]);
    expect(plan.columns.map((c) => c.salesforceName)).toEqual(['Id', 'Name', 'Amount', 'Count__c']);
  });

  it('keeps Salesforce names on request', () => {
    expect(planSchema(base, { naming: 'salesforce' }).schema.fields.map((f) => f.name)).toEqual(['Id', 'Name', 'Amount', 'Count__c']);
  });

  it('evolves: new optional columns with new ids, removed ones kept, promotions allowed', () => {
    const current = planSchema(base, { naming: 'snake_case' }).schema;
    const next = [
      { name: 'Id', type: 'id' },
      { name: 'Amount', type: 'currency', precision: 16, scale: 2 },
      { name: 'Count__c', type: 'long' },
      { name: 'Region__c', type: 'picklist' },
    ] as SalesforceField[];
    const plan = planSchema(next, { naming: 'snake_case', current, lastColumnId: 4 });
    expect(plan.changed).toBe(true);
    expect(plan.added).toEqual(['region_c']);
    expect(plan.missing).toEqual(['name']);
    expect(plan.promoted).toEqual(['amount: decimal(10, 2) → decimal(16, 2)', 'count_c: int → long']);
    expect(plan.schema.fields.map((f) => [f.id, f.name, f.type, f.required])).toEqual([
      [1, 'id', 'string', true],
      [2, 'name', 'string', false],
      [3, 'amount', 'decimal(16, 2)', false],
      [4, 'count_c', 'long', false],
      [5, 'region_c', 'string', false],
    ]);
    // Planning the same describe again changes nothing.
    expect(planSchema(next, { naming: 'snake_case', current: plan.schema, lastColumnId: 5 }).changed).toBe(false);
  });

  it('keeps the identifier fields of a table made elsewhere, and makes an optional id none (Iceberg refuses optional identifiers)', () => {
    const sparkMade = { type: 'struct' as const, 'schema-id': 0, fields: [{ id: 1, name: 'id', required: false, type: 'string' as const }] };
    const plan = planSchema(base, { naming: 'snake_case', current: sparkMade, lastColumnId: 1 });
    expect(plan.schema['identifier-field-ids']).toEqual([]);
    expect(plan.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'amount', 'count_c']);
    const ours = planSchema(base, { naming: 'snake_case' }).schema;
    expect(planSchema(base, { naming: 'snake_case', current: ours, lastColumnId: 4 }).schema['identifier-field-ids']).toEqual([1]);
  });

  it('refuses incompatible changes and name clashes with a clear message', () => {
    const current = planSchema(base, { naming: 'snake_case' }).schema;
    const changed = base.map((f) => (f.name === 'Amount' ? { ...f, scale: 4 } : f));
    expect(() => planSchema(changed, { naming: 'snake_case', current, table: 'sf.account' })).toThrow(
      /Incompatible schema change for sf.account: column amount is decimal\(10, 2\) in the table but Salesforce field Amount is now currency \(decimal\(10, 4\)\)/,
    );
    expect(() => planSchema([...base, { name: 'count__c', type: 'int' }], { naming: 'snake_case' })).toThrow(/Count__c and count__c both map to column "count_c"/);
    expect(() => planSchema([{ name: 'Name', type: 'string' }], { naming: 'snake_case' })).toThrow(/no Id field/);
  });
});

describe('Iceberg settings', () => {
  it('names every problem by variable, never echoing a secret', () => {
    const secret = 'super-secret-value-123';
    try {
      parseIcebergSettings({ ICEBERG_CATALOG_URI: 'not a url', ICEBERG_TOKEN: secret, ICEBERG_CLIENT_ID: 'x', S3_ACCESS_KEY_ID: 'k' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('ICEBERG_CATALOG_URI');
      expect(message).toContain('not both');
      expect(message).toContain('ICEBERG_CLIENT_SECRET');
      expect(message).toContain('S3_SECRET_ACCESS_KEY');
      expect(message).not.toContain(secret);
    }
  });
});

describe('column docs', () => {
  const fields: SalesforceField[] = [
    { name: 'Id', type: 'id', label: 'Account ID' },
    { name: 'RatingScore__c', type: 'double', label: 'Account Rating Score', calculated: true },
    { name: 'CallAt__c', type: 'time', label: 'Preferred Call Time' },
    { name: 'Name', type: 'string', label: 'Account Name' },
  ];
  const docs = (plan: ReturnType<typeof planSchema>) => Object.fromEntries(plan.schema.fields.map((f) => [f.name, f.doc]));

  it('carry the Salesforce label, mark formula fields, and keep saying a text column holds times', () => {
    expect(docs(planSchema(fields, { naming: 'snake_case' }))).toEqual({
      id: 'Account ID',
      rating_score_c: `Account Rating Score — ${FORMULA_DOC}`,
      call_at_c: `Preferred Call Time — ${TIME_TEXT_DOC}`,
      name: 'Account Name',
    });
    expect(FORMULA_DOC).toBe('formula field (calculated by Salesforce; its changes do not move SystemModstamp)');
    // An Iceberg time column needs no word on its format.
    expect(planSchema(fields, { naming: 'snake_case', timeAs: 'time' }).schema.fields[2]!.doc).toBe('Preferred Call Time');
    expect(columnDoc({ name: 'X', type: 'string' }, 'string')).toBeUndefined();
  });

  it('come to existing columns as a doc-only change: same ids, same types, nothing added', () => {
    const unlabelled = planSchema(
      fields.map(({ label: _, ...f }) => f),
      { naming: 'snake_case' },
    ).schema;
    const plan = planSchema(fields, { naming: 'snake_case', current: unlabelled, lastColumnId: 4 });
    expect(plan).toMatchObject({ changed: true, added: [], promoted: [], documented: ['id', 'rating_score_c', 'call_at_c', 'name'], lastColumnId: 4 });
    expect(plan.schema.fields.map((f) => [f.id, f.name, f.type, f.required])).toEqual(unlabelled.fields.map((f) => [f.id, f.name, f.type, f.required]));
    expect(docs(plan).call_at_c).toBe(`Preferred Call Time — ${TIME_TEXT_DOC}`);
    // Once documented, a later sync changes nothing.
    const again = planSchema(fields, { naming: 'snake_case', current: plan.schema, lastColumnId: 4 });
    expect(again).toMatchObject({ changed: false, documented: [] });
    // A time column made as Iceberg time keeps its type; its doc says only the label.
    const timeTable = planSchema(fields, { naming: 'snake_case', timeAs: 'time' }).schema;
    const underText = planSchema(fields, { naming: 'snake_case', current: timeTable, lastColumnId: 4 });
    expect(underText.changed).toBe(false);
    expect(underText.columns[2]!.field).toMatchObject({ type: 'time', doc: 'Preferred Call Time' });
  });
});
