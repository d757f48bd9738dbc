import type { SalesforceField, SalesforceFieldType } from '../../src/salesforce/describe-types';

/** A simulated sObject: describe metadata plus how its rows are generated. */
export interface SimObject {
  name: string;
  label: string;
  keyPrefix: string;
  custom: boolean;
  /** Objects Bulk API 2.0 refuses to query. */
  bulkQueryable: boolean;
  /** Fields one of which every query must filter on (Salesforce's "Implementation restriction", e.g. ContentDocumentLink). */
  requiresFilterOn?: string[];
  fields: SimField[];
}

export interface SimField extends SalesforceField {
  /** Generates the value of row n from n alone (null allowed when nillable): fields are generated one by one, only those a query needs. */
  gen: (n: number) => unknown;
  /** Id prefix of the referenced object, for reference fields. */
  referenceTo?: string;
}

/** The fixed "now" of the simulated org: generated rows are older, updates move past it. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

function hash(n: number, salt: number): number {
  let h = (n + 1) * 2654435761 + salt * 40503;
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^ (h >>> 16)) >>> 0;
}

const f = (name: string, type: SalesforceFieldType, gen: SimField['gen'], extra: Partial<SimField> = {}): SimField => ({
  name,
  type,
  label: name.replace(/__c$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
  nillable: type !== 'id' && type !== 'boolean',
  custom: name.endsWith('__c'),
  calculated: false,
  compoundFieldName: null,
  length: ['string', 'textarea', 'picklist', 'multipicklist', 'email', 'phone', 'url', 'combobox', 'encryptedstring', 'anyType'].includes(type)
    ? 255
    : ['id', 'reference'].includes(type)
      ? 18
      : 0,
  precision: 0,
  scale: 0,
  gen,
  ...extra,
});

const nullable = (n: number, s: number, every: number, value: () => unknown) => (hash(n, s) % every === 0 ? null : value());
const pick = <T>(n: number, s: number, values: T[]) => values[hash(n, s) % values.length]!;
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * ISO-8601 UTC text of an instant, as toISOString writes it for years 1000–9999, at a fraction of its
 * cost: generating datetimes was a third of the simulator's time per row.
 */
export function iso(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  // Civil date from days since the epoch (Howard Hinnant's civil_from_days).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 1000 || y > 9999) return new Date(ms).toISOString();
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${y}-${TWO[m]}-${TWO[d]}T${TWO[h]}:${TWO[mi]}:${TWO[sec]}.${THREE[rest - sec * 1000]}Z`;
}

/** Records are created over the 400 days before SIM_EPOCH_MS, 37 s apart (closer when an object has more than 934,000). */
const CREATION_SPAN_MS = 400 * 86_400_000;
const DAY_MS = 86_400_000;
/** Records are last modified up to 47 hours after their creation. */
const MODIFIED_WITHIN_MS = 48 * 3_600_000;

/** When record n is created (ms), for auditFields. */
function creationTime(rows = 0, scatteredOverDays?: number): (n: number) => number {
  if (scatteredOverDays) {
    const spanSeconds = Math.floor((scatteredOverDays * DAY_MS - MODIFIED_WITHIN_MS) / 1000);
    return (n) => SIM_EPOCH_MS - scatteredOverDays * DAY_MS + (hash(n, 1) % spanSeconds) * 1000 + (hash(n, 2) % 1000);
  }
  // Modified up to 47 hours after creation: the last record too is stamped before the epoch.
  const spacing = Math.min(37_000, Math.floor((CREATION_SPAN_MS - MODIFIED_WITHIN_MS) / Math.max(1, rows)));
  return (n) => SIM_EPOCH_MS - CREATION_SPAN_MS + n * spacing;
}

/**
 * Audit fields every object has; SystemModstamp grows with the record number. Every record is
 * created in the past, as in a real org, however many there are: a sync's window ends at "now",
 * so a record stamped later would be left for a later sync.
 *
 * `scatteredOverDays`: records are instead created at instants spread over that many days before
 * SIM_EPOCH_MS in no relation to their Id (as in an org whose history was loaded with its original
 * audit dates), so a data file written in Id order holds every month of the span, not a few.
 */
function auditFields(rows = 0, scatteredOverDays?: number): SimField[] {
  const created = creationTime(rows, scatteredOverDays);
  return [
    f('Id', 'id', (n) => n, { nillable: false, length: 18 }),
    f('IsDeleted', 'boolean', () => false, { nillable: false }),
    f('CreatedDate', 'datetime', (n) => iso(created(n)), { nillable: false }),
    f('LastModifiedDate', 'datetime', (n) => iso(created(n) + (hash(n, 3) % 48) * 3_600_000), { nillable: false }),
    f('SystemModstamp', 'datetime', (n) => iso(created(n) + (hash(n, 3) % 48) * 3_600_000), { nillable: false }),
    f('OwnerId', 'reference', (n) => n % 20, { referenceTo: '005', nillable: false }),
  ];
}

const cities = ['Berlin', 'Paris', 'Lisbon', 'Zürich', 'New York', 'São Paulo', 'Tokyo', 'Kraków'];
const industries = ['Banking', 'Energy', 'Retail', 'Technology', 'Healthcare', 'Education'];
const stages = ['Prospecting', 'Qualification', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost'];

function address(prefix: string): SimField[] {
  const compound = `${prefix}Address`;
  return [
    f(compound, 'address', () => null),
    f(`${prefix}Street`, 'textarea', (n) => nullable(n, 9, 9, () => `${(hash(n, 7) % 900) + 1} Market Street\nSuite ${hash(n, 8) % 50}`), { compoundFieldName: compound }),
    f(`${prefix}City`, 'string', (n) => nullable(n, 11, 7, () => pick(n, 12, cities)), { compoundFieldName: compound, length: 40 }),
    f(`${prefix}PostalCode`, 'string', (n) => String(10000 + (hash(n, 13) % 89999)), { compoundFieldName: compound, length: 20 }),
    f(`${prefix}Country`, 'string', (n) => pick(n, 14, ['Germany', 'France', 'Portugal', 'Switzerland', 'USA', 'Brazil', 'Japan', 'Poland']), {
      compoundFieldName: compound,
      length: 80,
    }),
    f(`${prefix}Latitude`, 'double', (n) => nullable(n, 15, 5, () => Number(((hash(n, 16) % 180000) / 1000 - 90).toFixed(6))), {
      compoundFieldName: compound,
      precision: 18,
      scale: 15,
    }),
    f(`${prefix}Longitude`, 'double', (n) => nullable(n, 17, 5, () => Number(((hash(n, 18) % 360000) / 1000 - 180).toFixed(6))), {
      compoundFieldName: compound,
      precision: 18,
      scale: 15,
    }),
  ];
}

/** The objects, their audit fields spread over the creation span by `rowCounts` (see auditFields). */
export function simObjects(rowCounts: Record<string, number> = {}): SimObject[] {
  const account: SimObject = {
    name: 'Account',
    label: 'Account',
    keyPrefix: '001',
    custom: false,
    bulkQueryable: true,
    fields: [
      ...auditFields(rowCounts['Account']),
      f('Name', 'string', (n) => `Account ${n} ${pick(n, 20, ['GmbH', 'SA', 'Ltd', 'Inc', 'K.K.', '"Quoted", Co'])}`, { nillable: false }),
      f('Type', 'picklist', (n) => nullable(n, 21, 6, () => pick(n, 22, ['Prospect', 'Customer - Direct', 'Partner']))),
      f('Industry', 'picklist', (n) => nullable(n, 23, 4, () => pick(n, 24, industries))),
      f('AnnualRevenue', 'currency', (n) => nullable(n, 25, 3, () => (hash(n, 26) % 100_000_000) / 100), { precision: 18, scale: 2 }),
      f('NumberOfEmployees', 'int', (n) => nullable(n, 27, 5, () => hash(n, 28) % 250_000), { digits: 8 }),
      f('Phone', 'phone', (n) => nullable(n, 29, 3, () => `+49 30 ${hash(n, 30) % 10_000_000}`), { length: 40 }),
      f('Website', 'url', (n) => nullable(n, 31, 4, () => `https://account-${n}.example.com`)),
      f('Description', 'textarea', (n) => nullable(n, 32, 2, () => `Line one for ${n}\nLine "two", with a comma`), { length: 32000 }),
      f('IsActive__c', 'boolean', (n) => hash(n, 33) % 2 === 0, { nillable: false }),
      f('Rating__c', 'percent', (n) => nullable(n, 34, 5, () => (hash(n, 35) % 10_000) / 100), { precision: 5, scale: 2 }),
      f('CustomerSince__c', 'date', (n) => nullable(n, 36, 4, () => iso(SIM_EPOCH_MS - (hash(n, 37) % 3650) * 86_400_000).slice(0, 10))),
      f('PreferredCallTime__c', 'time', (n) => nullable(n, 38, 3, () => `${String(8 + (hash(n, 39) % 10)).padStart(2, '0')}:${String(hash(n, 40) % 60).padStart(2, '0')}:00.000Z`)),
      f('Tags__c', 'multipicklist', (n) => nullable(n, 41, 3, () => ['Strategic', 'EMEA', 'Renewal'].filter((_, k) => (hash(n, 42) >> k) & 1).join(';') || 'EMEA')),
      f('Email__c', 'email', (n) => nullable(n, 43, 3, () => `contact@account-${n}.example.com`), { length: 80 }),
      f('ExternalScore__c', 'double', (n) => nullable(n, 44, 6, () => (hash(n, 45) % 1_000_000) / 7), { precision: 18, scale: 4 }),
      f('Logo__c', 'base64', (n) => nullable(n, 46, 2, () => Buffer.from(`logo-${n}`).toString('base64'))),
      ...address('Billing'),
      // A formula field: its value can change (POST /__sim/set-formula) without SystemModstamp moving.
      f('RatingScore__c', 'double', (n) => (hash(n, 35) % 10_000) / 10, { label: 'Account Rating Score', calculated: true, precision: 18, scale: 1 }),
    ],
  };
  const contact: SimObject = {
    name: 'Contact',
    label: 'Contact',
    keyPrefix: '003',
    custom: false,
    bulkQueryable: true,
    fields: [
      ...auditFields(rowCounts['Contact']),
      f('AccountId', 'reference', (n) => n % 1000, { referenceTo: '001' }),
      f('FirstName', 'string', (n) => pick(n, 50, ['Ana', 'Björn', 'Chloé', 'Dmitri', 'Emeka', 'Fatima', 'Günther'])),
      f('LastName', 'string', (n) => `Person${n}`, { nillable: false, length: 80 }),
      f('Email', 'email', (n) => nullable(n, 51, 5, () => `person${n}@example.org`)),
      f('Birthdate', 'date', (n) => nullable(n, 52, 3, () => iso(Date.UTC(1950 + (hash(n, 53) % 50), hash(n, 54) % 12, 1 + (hash(n, 55) % 28))).slice(0, 10))),
      f('HasOptedOutOfEmail', 'boolean', (n) => hash(n, 56) % 7 === 0, { nillable: false }),
      ...address('Mailing'),
    ],
  };
  const opportunity: SimObject = {
    name: 'Opportunity',
    label: 'Opportunity',
    keyPrefix: '006',
    custom: false,
    bulkQueryable: true,
    fields: [
      ...auditFields(rowCounts['Opportunity']),
      f('AccountId', 'reference', (n) => n % 1000, { referenceTo: '001' }),
      f('Name', 'string', (n) => `Deal ${n}`, { nillable: false, length: 120 }),
      f('StageName', 'picklist', (n) => pick(n, 60, stages), { nillable: false }),
      f('Amount', 'currency', (n) => nullable(n, 61, 4, () => (hash(n, 62) % 5_000_000_00) / 100), { precision: 18, scale: 2 }),
      f('Probability', 'percent', (n) => (hash(n, 63) % 11) * 10, { precision: 3, scale: 0 }),
      f('CloseDate', 'date', (n) => iso(SIM_EPOCH_MS + ((hash(n, 64) % 400) - 200) * 86_400_000).slice(0, 10), { nillable: false }),
      f('IsClosed', 'boolean', (n) => hash(n, 60) % 6 >= 4, { nillable: false }),
      f('TotalOpportunityQuantity', 'double', (n) => nullable(n, 65, 3, () => hash(n, 66) % 1000), { precision: 18, scale: 2 }),
    ],
  };
  const invoice: SimObject = {
    name: 'Invoice__c',
    label: 'Invoice',
    keyPrefix: 'a01',
    custom: true,
    bulkQueryable: true,
    fields: [
      ...auditFields(rowCounts['Invoice__c']),
      f('Name', 'string', (n) => `INV-${String(n).padStart(8, '0')}`, { nillable: false, length: 80 }),
      f('Account__c', 'reference', (n) => n % 1000, { referenceTo: '001' }),
      f('Total__c', 'currency', (n) => (hash(n, 70) % 10_000_000) / 100, { precision: 16, scale: 2 }),
      f('Paid__c', 'boolean', (n) => hash(n, 71) % 3 === 0, { nillable: false }),
      f('Line_Count__c', 'double', (n) => hash(n, 72) % 40, { precision: 18, scale: 0 }),
      f('Due_Date__c', 'date', (n) => iso(SIM_EPOCH_MS + (hash(n, 73) % 90) * 86_400_000).slice(0, 10)),
    ],
  };
  const simple = (name: string, keyPrefix: string, fields: SimField[], bulkQueryable = true): SimObject => ({
    name,
    label: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    keyPrefix,
    custom: name.endsWith('__c'),
    bulkQueryable,
    fields: [...auditFields(rowCounts[name]), ...fields],
  });
  const user = simple('User', '005', [
    f('Username', 'string', (n) => `user${n}@sim.example.com`, { nillable: false, length: 80 }),
    f('Email', 'email', (n) => `user${n}@sim.example.com`, { nillable: false }),
    f('IsActive', 'boolean', (n) => n % 9 !== 0, { nillable: false }),
    f('UserRoleId', 'reference', (n) => n, { referenceTo: '00E' }),
    f('TimeZoneSidKey', 'picklist', (n) => pick(n, 80, ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo']), { nillable: false }),
    f('FederationIdentifier', 'encryptedstring', (n) => nullable(n, 81, 2, () => `fid-${n}`), { length: 512 }),
  ]);
  const userRole = simple('UserRole', '00E', [
    f('Name', 'string', (n) => `Role ${n}`, { nillable: false, length: 80 }),
    f('ParentRoleId', 'reference', (n) => nullable(n, 82, 3, () => n >> 1), { referenceTo: '00E' }),
  ]);
  const lead = simple('Lead', '00Q', [
    f('FirstName', 'string', (n) => pick(n, 83, ['Ines', 'Jon', 'Kemal'])),
    f('LastName', 'string', (n) => `Lead${n}`, { nillable: false }),
    f('Company', 'string', (n) => `Prospect ${n} Ltd`, { nillable: false }),
    f('Status', 'picklist', (n) => pick(n, 84, ['Open', 'Working', 'Converted']), { nillable: false }),
    f('LeadSource', 'combobox', (n) => nullable(n, 85, 4, () => pick(n, 86, ['Web', 'Partner', 'Trade Show']))),
    f('AnnualRevenue', 'currency', (n) => nullable(n, 87, 3, () => (hash(n, 88) % 10_000_000) / 100), { precision: 18, scale: 2 }),
    ...address(''),
  ]);
  const campaign = simple('Campaign', '701', [
    f('Name', 'string', (n) => `Campaign ${n}`, { nillable: false }),
    f('IsActive', 'boolean', (n) => n % 2 === 0, { nillable: false }),
    f('StartDate', 'date', (n) => iso(SIM_EPOCH_MS - (n % 300) * 86_400_000).slice(0, 10)),
    f('BudgetedCost', 'currency', (n) => (hash(n, 89) % 1_000_000) / 100, { precision: 18, scale: 2 }),
    f('NumberSent', 'double', (n) => hash(n, 90) % 100_000, { precision: 18, scale: 0 }),
  ]);
  const campaignMember = simple('CampaignMember', '00v', [
    f('CampaignId', 'reference', (n) => n, { referenceTo: '701', nillable: false }),
    f('ContactId', 'reference', (n) => n, { referenceTo: '003' }),
    f('LeadId', 'reference', (n) => nullable(n, 91, 2, () => n), { referenceTo: '00Q' }),
    f('Status', 'picklist', (n) => pick(n, 92, ['Sent', 'Responded']), { nillable: false }),
    f('HasResponded', 'boolean', (n) => hash(n, 92) % 2 === 1, { nillable: false }),
  ]);
  const product = simple('Product2', '01t', [
    f('Name', 'string', (n) => `Product ${n}`, { nillable: false }),
    f('ProductCode', 'string', (n) => `P-${String(n).padStart(6, '0')}`),
    f('IsActive', 'boolean', (n) => n % 10 !== 0, { nillable: false }),
    f('Family', 'picklist', (n) => pick(n, 93, ['Hardware', 'Software', 'Services'])),
    f('StockKeepingUnit__c', 'long', (n) => 9_000_000_000 + n, { digits: 18 }),
  ]);
  const pricebook = simple('Pricebook2', '01s', [
    f('Name', 'string', (n) => (n === 0 ? 'Standard Price Book' : `Price Book ${n}`), { nillable: false }),
    f('IsStandard', 'boolean', (n) => n === 0, { nillable: false }),
  ]);
  const pricebookEntry = simple('PricebookEntry', '01u', [
    f('Pricebook2Id', 'reference', (n) => n, { referenceTo: '01s', nillable: false }),
    f('Product2Id', 'reference', (n) => n, { referenceTo: '01t', nillable: false }),
    f('UnitPrice', 'currency', (n) => (hash(n, 94) % 1_000_000) / 100, { precision: 18, scale: 2, nillable: false }),
    f('IsActive', 'boolean', () => true, { nillable: false }),
  ]);
  const lineItem = simple('OpportunityLineItem', '00k', [
    f('OpportunityId', 'reference', (n) => n, { referenceTo: '006', nillable: false }),
    f('PricebookEntryId', 'reference', (n) => n, { referenceTo: '01u', nillable: false }),
    f('Quantity', 'double', (n) => 1 + (hash(n, 95) % 20), { precision: 12, scale: 2, nillable: false }),
    f('UnitPrice', 'currency', (n) => (hash(n, 96) % 1_000_000) / 100, { precision: 18, scale: 2 }),
    f('ServiceDate', 'date', (n) => nullable(n, 97, 3, () => iso(SIM_EPOCH_MS + (n % 90) * 86_400_000).slice(0, 10))),
  ]);
  const contactRole = simple('OpportunityContactRole', '00K', [
    f('OpportunityId', 'reference', (n) => n, { referenceTo: '006', nillable: false }),
    f('ContactId', 'reference', (n) => n * 7, { referenceTo: '003', nillable: false }),
    f('Role', 'picklist', (n) => nullable(n, 98, 4, () => pick(n, 99, ['Decision Maker', 'Economic Buyer', 'Influencer']))),
    f('IsPrimary', 'boolean', (n) => n % 3 === 0, { nillable: false }),
  ]);
  const task = taskObject(rowCounts['Task']);
  const event = simple('Event', '00U', [
    f('Subject', 'combobox', (n) => pick(n, 103, ['Meeting', 'Demo', 'Lunch'])),
    f('WhatId', 'reference', (n) => n, { referenceTo: '006' }),
    f('StartDateTime', 'datetime', (n) => iso(SIM_EPOCH_MS + (n % 500) * 3_600_000), { nillable: false }),
    f('DurationInMinutes', 'int', (n) => 15 * (1 + (n % 8))),
    f('IsAllDayEvent', 'boolean', (n) => n % 11 === 0, { nillable: false }),
  ]);
  // Feed objects are among those Bulk API 2.0 refuses to query.
  const accountFeed = simple(
    'AccountFeed',
    '0D5',
    [f('ParentId', 'reference', (n) => n, { referenceTo: '001', nillable: false }), f('Body', 'textarea', (n) => `Post ${n}`)],
    false,
  );
  const accountHistory = historyObject('AccountHistory', '017', 'AccountId', '001', rowCounts['AccountHistory'], [
    { field: 'Name', dataType: 'Text', value: (n) => `Account ${n % 1000} ${pick(n, 20, ['GmbH', 'SA', 'Ltd', 'Inc'])}` },
    { field: 'Industry', dataType: 'Picklist', value: (n) => nullable(n, 23, 4, () => pick(n, 24, industries)) },
    { field: 'Type', dataType: 'Picklist', value: (n) => nullable(n, 21, 6, () => pick(n, 22, ['Prospect', 'Customer - Direct', 'Partner'])) },
    { field: 'AnnualRevenue', dataType: 'Currency', value: (n) => nullable(n, 25, 3, () => String((hash(n, 26) % 100_000_000) / 100)) },
    { field: 'Phone', dataType: 'Phone', value: (n) => nullable(n, 29, 3, () => `+49 30 ${hash(n, 30) % 10_000_000}`) },
  ]);
  const opportunityHistory = historyObject('OpportunityFieldHistory', '0BP', 'OpportunityId', '006', rowCounts['OpportunityFieldHistory'], [
    { field: 'StageName', dataType: 'Picklist', value: (n) => pick(n, 60, stages) },
    { field: 'Amount', dataType: 'Currency', value: (n) => nullable(n, 61, 4, () => String((hash(n, 62) % 5_000_000_00) / 100)) },
    { field: 'CloseDate', dataType: 'Date', value: (n) => iso(SIM_EPOCH_MS + ((hash(n, 64) % 400) - 200) * DAY_MS).slice(0, 10) },
    { field: 'Probability', dataType: 'Percent', value: (n) => String((hash(n, 63) % 11) * 10) },
    { field: 'Name', dataType: 'Text', value: (n) => `Deal ${n % 1000}` },
  ]);
  // Geolocation (compound "location") custom field on the custom object.
  invoice.fields.push(
    f('Site__c', 'location', () => null),
    f('Site__Latitude__s', 'double', (n) => Number(((hash(n, 104) % 180000) / 1000 - 90).toFixed(6)), { compoundFieldName: 'Site__c', precision: 12, scale: 9 }),
    f('Site__Longitude__s', 'double', (n) => Number(((hash(n, 105) % 360000) / 1000 - 180).toFixed(6)), { compoundFieldName: 'Site__c', precision: 12, scale: 9 }),
  );
  // Salesforce answers every query of ContentDocumentLink that filters on neither of these with an implementation restriction.
  const documentLink: SimObject = {
    ...simple('ContentDocumentLink', '06A', [
      f('LinkedEntityId', 'reference', (n) => n, { referenceTo: '001', nillable: false }),
      f('ContentDocumentId', 'reference', (n) => n, { referenceTo: '069', nillable: false }),
      f('ShareType', 'picklist', (n) => pick(n, 130, ['V', 'C', 'I']), { nillable: false, length: 40 }),
      f('Visibility', 'picklist', (n) => pick(n, 131, ['AllUsers', 'InternalUsers']), { nillable: false, length: 40 }),
    ]),
    requiresFilterOn: ['ContentDocumentId', 'LinkedEntityId'],
  };
  // A very wide custom object: its full SELECT exceeds the REST query URL limit, so reads split it.
  const wideTypes: [SalesforceFieldType, SimField['gen'], Partial<SimField>][] = [
    ['string', (n) => `text ${n}`, {}],
    ['double', (n) => n / 4, { precision: 18, scale: 2 }],
    ['boolean', (n) => n % 2 === 0, { nillable: false }],
    ['datetime', (n) => iso(SIM_EPOCH_MS - n * 60_000), {}],
    ['currency', (n) => n * 1.25, { precision: 16, scale: 2 }],
    ['date', () => '2025-12-24', {}],
  ];
  const wideFields: SimField[] = [f('Name', 'string', (n) => `Wide ${n}`, { nillable: false })];
  for (let k = 0; k < 620; k++) {
    const [type, gen, extra] = wideTypes[k % wideTypes.length]!;
    wideFields.push(f(`Measurement_Value_Number_${String(k).padStart(3, '0')}__c`, type, (n) => (hash(n, 200 + k) % 5 === 0 ? null : gen(n + k)), extra));
  }
  const wide = simple('Wide_Measurement__c', 'a02', wideFields);
  return [
    account,
    contact,
    opportunity,
    invoice,
    user,
    userRole,
    lead,
    campaign,
    campaignMember,
    product,
    pricebook,
    pricebookEntry,
    lineItem,
    contactRole,
    task,
    event,
    accountFeed,
    accountHistory,
    opportunityHistory,
    documentLink,
    wide,
  ];
}

/** A field whose changes a history object records: its name and data type as the history row names them, and a value of it. */
interface TrackedField {
  field: string;
  dataType: string;
  value: (n: number) => unknown;
}

/**
 * A field history object as Salesforce shapes it (StandardObjectNameHistory): one row per change of
 * a tracked field of the parent, or a 'created' row, never changed afterwards. It has CreatedDate
 * but no LastModifiedDate nor SystemModstamp (so a sync's only cursor is CreatedDate), and no
 * OwnerId; OldValue and NewValue are anyType (values as text, null for a 'created' row). Rows are
 * created over the creation span in Id order, every one in the past. Salesforce documents no Bulk
 * API 2.0 refusal for history objects (the Field Audit Trail guide queries FieldHistoryArchive
 * through a Bulk 2.0 job), so they are Bulk-queryable here.
 */
function historyObject(name: string, keyPrefix: string, parentField: string, parentPrefix: string, rows: number | undefined, tracked: TrackedField[]): SimObject {
  const created = creationTime(rows);
  // Every sixth row records a creation; the others a change of one tracked field.
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const change = (n: number): TrackedField | undefined => (n % 6 === 0 ? undefined : pick(n, 130, tracked));
  return {
    name,
    label: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    keyPrefix,
    custom: false,
    bulkQueryable: true,
    fields: [
      f('Id', 'id', (n) => n, { nillable: false, length: 18 }),
      f('IsDeleted', 'boolean', () => false, { nillable: false }),
      f(parentField, 'reference', (n) => Math.floor(n / 3), { referenceTo: parentPrefix, nillable: false }),
      f('CreatedById', 'reference', (n) => hash(n, 131) % 20, { referenceTo: '005', nillable: false }),
      f('CreatedDate', 'datetime', (n) => iso(created(n)), { nillable: false }),
      f('Field', 'picklist', (n) => change(n)?.field ?? 'created', { nillable: false, label: 'Changed Field' }),
      f('DataType', 'picklist', (n) => change(n)?.dataType ?? 'Text', { length: 40, label: 'Data Type' }),
      f('OldValue', 'anyType', (n) => text(change(n)?.value(n + 7)), { length: 255, label: 'Old Value' }),
      f('NewValue', 'anyType', (n) => text(change(n)?.value(n)), { length: 255, label: 'New Value' }),
    ],
  };
}

/** Days over which Task records are created (three years before SIM_EPOCH_MS, 2023 to 2025). */
export const TASK_CREATION_DAYS = 1096;

/**
 * Task, with the fields of Salesforce's Task that a lake cares about. Created at instants scattered
 * over three years with no relation to the Id (see auditFields): the object the partitioned-table
 * benchmark and tests filter by month of CreatedDate. Fields that go together agree: a Completed
 * task is closed and has a CompletedDateTime, a High priority one IsHighPriority, a call its
 * duration and type.
 */
function taskObject(rows?: number): SimObject {
  const audit = auditFields(rows, TASK_CREATION_DAYS);
  const createdMs = creationTime(rows, TASK_CREATION_DAYS);
  const modified = audit.find((x) => x.name === 'LastModifiedDate')!.gen;
  const statuses = ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred', 'Completed'];
  const completed = (n: number) => pick(n, 101, statuses) === 'Completed';
  const priority = (n: number) => pick(n, 106, ['High', 'Normal', 'Normal', 'Normal', 'Low']);
  const subtype = (n: number) => pick(n, 107, ['Task', 'Task', 'Email', 'Call']);
  const call = (n: number) => subtype(n) === 'Call';
  return {
    name: 'Task',
    label: 'Task',
    keyPrefix: '00T',
    custom: false,
    bulkQueryable: true,
    fields: [
      ...audit,
      f('CreatedById', 'reference', (n) => hash(n, 108) % 20, { referenceTo: '005', nillable: false }),
      f('LastModifiedById', 'reference', (n) => hash(n, 109) % 20, { referenceTo: '005', nillable: false }),
      f('Subject', 'combobox', (n) => pick(n, 100, ['Call', 'Email', 'Follow up', 'Send Quote', 'Send Letter', 'Other'])),
      f('ActivityDate', 'date', (n) => nullable(n, 110, 5, () => iso(createdMs(n) + ((hash(n, 111) % 45) - 5) * DAY_MS).slice(0, 10))),
      f('Status', 'picklist', (n) => pick(n, 101, statuses), { nillable: false, length: 40 }),
      f('IsClosed', 'boolean', completed, { nillable: false }),
      f('CompletedDateTime', 'datetime', (n) => (completed(n) ? modified(n) : null)),
      f('Priority', 'picklist', priority, { nillable: false, length: 40 }),
      f('IsHighPriority', 'boolean', (n) => priority(n) === 'High', { nillable: false }),
      f('WhoId', 'reference', (n) => nullable(n, 112, 4, () => hash(n, 113)), { referenceTo: '003' }),
      f('WhatId', 'reference', (n) => nullable(n, 114, 3, () => hash(n, 115)), { referenceTo: '006' }),
      // The account of the Who or What (derived in Salesforce); none for a task on neither.
      f('AccountId', 'reference', (n) => nullable(n, 116, 10, () => hash(n, 117)), { referenceTo: '001' }),
      f('Type', 'picklist', (n) => nullable(n, 118, 3, () => pick(n, 119, ['Call', 'Email', 'Meeting', 'Other'])), { length: 40 }),
      f('TaskSubtype', 'picklist', subtype, { length: 40 }),
      f('CallDurationInSeconds', 'int', (n) => (call(n) ? hash(n, 120) % 3600 : null), { digits: 9 }),
      f('CallType', 'picklist', (n) => (call(n) ? pick(n, 121, ['Internal', 'Inbound', 'Outbound']) : null), { length: 40 }),
      f('CallDisposition', 'string', (n) => (call(n) ? pick(n, 122, ['Left voicemail', 'Connected', 'No answer']) : null)),
      f('IsReminderSet', 'boolean', (n) => hash(n, 123) % 4 === 0, { nillable: false }),
      f('ReminderDateTime', 'datetime', (n) => (hash(n, 123) % 4 === 0 ? iso(createdMs(n) + (hash(n, 124) % 72) * 3_600_000) : null)),
      f('IsArchived', 'boolean', () => false, { nillable: false }),
      f('Description', 'textarea', (n) => nullable(n, 102, 2, () => `Notes, "quoted"\nline ${n}`), { length: 32000 }),
    ],
  };
}

/**
 * An org of many objects, as large orgs have (hundreds of standard and custom objects, most of them
 * small): objects generated beside the fixed ones above. Each generated object has the usual audit
 * fields (Id, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp, OwnerId: incremental merge
 * works on it) and a name field, then more fields of varied types up to its field count.
 */
export interface GeneratedOrgSpec {
  /** Objects generated beside the fixed ones. */
  objects: number;
  /** Fields of each generated object, audit fields included: [min, max]. Default [10, 80]. */
  fields?: [number, number];
  /** Rows of the small objects: [min, max]. Default [50, 2,000]. */
  smallRows?: [number, number];
  /** How many of the generated objects are large. Default 3. */
  largeObjects?: number;
  /** Rows of the large objects: [min, max]. Default [100,000, 300,000]. */
  largeRows?: [number, number];
}

/** Defaults of GeneratedOrgSpec: one place for the simulator, `npm run sim` and the bench. */
export const GENERATED_DEFAULTS = { fields: [10, 80], smallRows: [50, 2_000], largeObjects: 3, largeRows: [100_000, 300_000] } as const satisfies Omit<
  Required<GeneratedOrgSpec>,
  'objects'
>;

/** Real Salesforce standard object names the fixed objects do not use: the generated objects' standard-looking names. */
const STANDARD_NAMES = [
  'Asset',
  'Case',
  'Contract',
  'Order',
  'OrderItem',
  'Quote',
  'QuoteLineItem',
  'Entitlement',
  'ServiceContract',
  'ContractLineItem',
  'WorkOrder',
  'WorkOrderLineItem',
  'Solution',
  'Idea',
  'Individual',
  'Location',
  'Shipment',
  'ProductItem',
  'ProductRequest',
  'ReturnOrder',
  'Note',
  'Attachment',
  'Document',
  'EmailMessage',
  'CaseComment',
  'Partner',
  'AssetRelationship',
  'ServiceAppointment',
  'ServiceResource',
  'Skill',
  'OperatingHours',
  'TimeSlot',
  'Macro',
  'Survey',
  'Image',
  'Topic',
  'Holiday',
  'Period',
  'BusinessHours',
  'Organization',
];
const CUSTOM_WORDS_A = [
  'Project',
  'Shipment',
  'Invoice_Line',
  'Subscription',
  'Renewal',
  'Warranty',
  'Site',
  'Device',
  'Meter',
  'Claim',
  'Policy',
  'Vendor',
  'Region',
  'Ticket',
  'Visit',
  'Batch',
];
const CUSTOM_WORDS_B = ['Item', 'Log', 'Detail', 'Status', 'Plan', 'Event', 'Score', 'Request', 'Entry', 'Rule', 'Note', 'Share'];
const NOUNS = ['Amount', 'Code', 'Status', 'Region', 'Score', 'Level', 'Start', 'End', 'Owner_Note', 'Channel', 'Reason', 'Weight', 'Count', 'Flag', 'Rate'];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The generated objects' key prefixes: custom objects a03, a04, …; standard-looking ones 0G0, 0G1, …; never one already in use. */
function prefixes(taken: Set<string>): { custom: () => string; standard: () => string } {
  const next = (first: string, start: number) => {
    let i = start;
    return () => {
      for (;;) {
        const p = `${first}${BASE62[Math.floor(i / 62) % 62]}${BASE62[i % 62]}`;
        i++;
        if (i >= 62 * 62) throw new Error(`no key prefix left after ${first}zz`);
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
  };
  return { custom: next('a', 0), standard: next('0', 16 * 62) };
}
/** The types generated fields cycle through, with their values (a field's salt `s` varies them). */
const GENERATED_TYPES: [SalesforceFieldType, (n: number, s: number) => unknown, Partial<SimField>][] = [
  ['string', (n, s) => `Text ${hash(n, s) % 100_000}`, { length: 80 }],
  ['double', (n, s) => (hash(n, s) % 1_000_000) / 100, { precision: 18, scale: 2 }],
  ['boolean', (n, s) => hash(n, s) % 2 === 0, { nillable: false }],
  ['datetime', (n, s) => iso(SIM_EPOCH_MS - (hash(n, s) % 800) * 3_600_000), {}],
  ['currency', (n, s) => (hash(n, s) % 10_000_000) / 100, { precision: 16, scale: 2 }],
  ['date', (n, s) => iso(SIM_EPOCH_MS - (hash(n, s) % 900) * DAY_MS).slice(0, 10), {}],
  ['picklist', (n, s) => pick(n, s, ['New', 'Open', 'Pending', 'Closed']), { length: 40 }],
  ['int', (n, s) => hash(n, s) % 10_000, { digits: 9 }],
  ['percent', (n, s) => (hash(n, s) % 10_000) / 100, { precision: 5, scale: 2 }],
  ['email', (n) => `row${n}@generated.example.com`, {}],
  ['textarea', (n, s) => `Note ${n}\nline ${hash(n, s) % 1000}`, { length: 32000 }],
  ['reference', (n, s) => hash(n, s), { referenceTo: '001' }],
];

/**
 * `spec.objects` generated objects, their names, key prefixes, fields and row counts decided by
 * their number alone (the same spec gives the same org). About a quarter have standard-looking
 * names (Asset, Case, …; with a number once those run out), the rest are custom `X__c`. Cheap:
 * no row is made here (rows are generated per query from their number, as the fixed objects' are).
 * `taken`: key prefixes (and names) already in use, which none of these reuses; `rowCounts` overrides a generated object's rows.
 */
export function generatedObjects(
  spec: GeneratedOrgSpec,
  taken: { prefixes: Iterable<string>; names: Iterable<string> },
  rowCounts: Record<string, number> = {},
): { objects: SimObject[]; rows: Record<string, number> } {
  const d = { ...GENERATED_DEFAULTS, ...spec };
  const next = prefixes(new Set(taken.prefixes));
  const names = new Set([...taken.names].map((x) => x.toLowerCase()));
  const unique = (name: string, suffix: (k: number) => string) => {
    let out = name;
    for (let k = 2; names.has(out.toLowerCase()); k++) out = suffix(k);
    names.add(out.toLowerCase());
    return out;
  };
  const between = ([lo, hi]: readonly [number, number], n: number, salt: number) => lo + (hash(n, salt) % (hi - lo + 1));
  // The large objects spread over the list (not all at its start).
  const large = new Set(Array.from({ length: Math.min(d.largeObjects, spec.objects) }, (_, k) => Math.floor(((k + 0.5) * spec.objects) / Math.max(1, d.largeObjects))));
  const objects: SimObject[] = [];
  const rows: Record<string, number> = {};
  let standard = 0;
  let custom = 0;
  for (let i = 0; i < spec.objects; i++) {
    const isCustom = i % 4 !== 1;
    let name: string;
    if (isCustom) {
      const c = custom++;
      const base = `${CUSTOM_WORDS_A[c % CUSTOM_WORDS_A.length]}_${CUSTOM_WORDS_B[Math.floor(c / CUSTOM_WORDS_A.length) % CUSTOM_WORDS_B.length]}`;
      name = unique(`${base}__c`, (k) => `${base}_${k}__c`);
    } else {
      const s = standard++;
      const base = STANDARD_NAMES[s % STANDARD_NAMES.length]!;
      name = unique(base, (k) => `${base}${k}`);
    }
    rows[name] = rowCounts[name] ?? between(large.has(i) ? d.largeRows : d.smallRows, i, 300);
    const fieldCount = between(d.fields, i, 301);
    const fields: SimField[] = [...auditFields(rows[name]), f('Name', 'string', (n) => `${name.replace(/__c$/, '')} ${n}`, { nillable: false, length: 80 })];
    for (let k = 0; fields.length < fieldCount; k++) {
      const [type, gen, extra] = GENERATED_TYPES[(k + i) % GENERATED_TYPES.length]!;
      const salt = 1000 + i * 97 + k;
      const fieldName = `${NOUNS[k % NOUNS.length]}_${String(k).padStart(2, '0')}`;
      // Standard objects have custom fields too: every third field of one is custom.
      const named = isCustom || k % 3 === 0 ? `${fieldName}__c` : fieldName.replace(/_/g, '');
      fields.push(f(named, type, (n) => (type !== 'boolean' && hash(n, salt + 7) % 6 === 0 ? null : gen(n, salt)), extra));
    }
    objects.push({
      name,
      label: name
        .replace(/__c$/, '')
        .replace(/_/g, ' ')
        .replace(/([a-z])([A-Z])/g, '$1 $2'),
      keyPrefix: isCustom ? next.custom() : next.standard(),
      custom: isCustom,
      bulkQueryable: true,
      fields,
    });
  }
  return { objects, rows };
}
