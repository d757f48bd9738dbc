import { salesforceId, recordNumber } from './ids';
import { SIM_EPOCH_MS, generatedObjects, simObjects, type GeneratedOrgSpec, type SimField, type SimObject } from './objects';
import { SoqlError, conditionFields, type Condition, type Literal, type Query } from './soql';

export type SimRecord = Record<string, unknown>;

/** How far back getDeleted answers (Salesforce: 15 days). */
export const DELETE_LOG_DAYS = 15;

/**
 * The data of a simulated org: deterministic generated rows per object, plus an overlay of what
 * tests changed (updates move SystemModstamp forward, deletes move rows to queryAll, hard deletes and
 * an emptied Recycle Bin remove them from both, added fields).
 */
export class SimOrg {
  readonly objects = new Map<string, SimObject>();
  private readonly counts = new Map<string, number>();
  private readonly updates = new Map<string, Map<number, SimRecord>>();
  private readonly deleted = new Map<string, Map<number, string>>();
  /** Rows gone for good (hard-deleted, or purged from the Recycle Bin): no query sees them. */
  private readonly purged = new Map<string, Set<number>>();
  /** The delete log getDeleted reads: when each row was deleted (soft or hard), per object. */
  private readonly deleteLog = new Map<string, Map<number, number>>();
  /** When each object's delete log was last purged (an emptied Recycle Bin, or Salesforce's background purge). */
  private readonly deleteLogPurged = new Map<string, number>();
  private readonly prefixes = new Map<string, string>();
  /** Formula values set by tests, per object and field: for every row, or for some rows. */
  private readonly formulas = new Map<string, Map<string, { every?: { value: unknown }; rows: Map<number, unknown> }>>();
  /** Row numbers by CreatedDate, per object (Salesforce indexes CreatedDate): built on first use, again when rows are added. */
  private readonly createdIndexes = new Map<string, { rows: number; order: Uint32Array; keys: Float64Array }>();
  private clock = SIM_EPOCH_MS + 86_400_000;
  /** Fields the integration user cannot see (field-level security), per object: describe lists them, SOQL does not know them. */
  private readonly hidden = new Map<string, Set<string>>();

  /** `generated`: objects generated beside the fixed ones (an org of many objects; see generatedObjects). */
  constructor(rowCounts: Record<string, number> = {}, generated?: GeneratedOrgSpec) {
    const fixed = simObjects(rowCounts);
    // Prefixes the fixed objects reference (e.g. 069 for ContentDocument) count as taken too.
    const taken = { prefixes: fixed.flatMap((o) => [o.keyPrefix, ...o.fields.flatMap((x) => (x.referenceTo ? [x.referenceTo] : []))]), names: fixed.map((o) => o.name) };
    const extra = generated && generated.objects > 0 ? generatedObjects(generated, taken, rowCounts) : { objects: [], rows: {} };
    for (const o of [...fixed, ...extra.objects]) {
      this.objects.set(o.name.toLowerCase(), o);
      if (!this.prefixes.has(o.keyPrefix)) this.prefixes.set(o.keyPrefix, o.name);
      this.counts.set(o.name, rowCounts[o.name] ?? extra.rows[o.name] ?? 100);
    }
  }

  object(name: string): SimObject | undefined {
    return this.objects.get(name.toLowerCase());
  }

  count(name: string): number {
    return this.counts.get(this.object(name)!.name)!;
  }

  setCount(name: string, n: number): void {
    this.counts.set(this.object(name)!.name, n);
  }

  /**
   * Adds `k` records created now, as a real org's new rows are (history rows above all: one per
   * change, made now): their CreatedDate — and SystemModstamp and LastModifiedDate where the object
   * has them — stamped by the org's clock, so an incremental sync sees them. Rows setCount adds are
   * generated ones, created in the past. Returns the new Ids.
   */
  addRecords(objectName: string, k: number): string[] {
    const o = this.known(objectName);
    const from = this.count(o.name);
    this.setCount(o.name, from + k);
    const overlay = this.updates.get(o.name) ?? new Map<number, SimRecord>();
    this.updates.set(o.name, overlay);
    const stamped = ['CreatedDate', 'LastModifiedDate', 'SystemModstamp'].filter((name) => this.field(o, name)?.type === 'datetime');
    const ids: string[] = [];
    for (let n = from; n < from + k; n++) {
      const now = this.tick();
      overlay.set(n, Object.fromEntries(stamped.map((name) => [name, now])));
      ids.push(salesforceId(o.keyPrefix, n + 1));
    }
    return ids;
  }

  /**
   * A few changes to every object (or to `objects`), as a busy org sees between two syncs: `updates`
   * existing rows updated (their SystemModstamp moves; a text field changes where there is one),
   * `creates` rows created now, and `deletes` rows deleted in every `deleteEvery`-th object (the
   * others get none). Objects without SystemModstamp (history objects: rows never change) only get
   * creates. `round` varies which rows (a later round touches others). Returns the counts and the
   * latest stamp given (a sync must start after it to see every change).
   */
  touch(opts: { updates?: number; creates?: number; deletes?: number; deleteEvery?: number; round?: number; objects?: string[] }): {
    objects: number;
    updated: number;
    created: number;
    deleted: number;
    lastStamp: string;
  } {
    const { updates = 0, creates = 0, deletes = 0, deleteEvery = 1, round = 0 } = opts;
    const targets = opts.objects ? opts.objects.map((name) => this.known(name)) : [...this.objects.values()];
    let [updated, created, deleted] = [0, 0, 0];
    targets.forEach((o, index) => {
      if (this.field(o, 'SystemModstamp')) {
        const total = this.count(o.name);
        const text = o.fields.find((x) => x.type === 'string' && !x.calculated && this.visible(o, x) && x.name !== 'Name') ?? this.field(o, 'Name');
        const wanted = updates + (index % Math.max(1, deleteEvery) === 0 ? deletes : 0);
        // Distinct live rows, spread over the object (a row a test deleted or purged is skipped).
        const rows: number[] = [];
        for (let k = 0; rows.length < wanted && k < wanted * 4 + 8; k++) {
          const n = (Math.imul(round * 7919 + k * 104_729 + index, 2_654_435_761) >>> 0) % total;
          if (!rows.includes(n) && !this.deleted.get(o.name)?.has(n) && !this.isPurged(o, n)) rows.push(n);
        }
        for (const n of rows.slice(0, updates)) {
          this.update(o.name, salesforceId(o.keyPrefix, n + 1), text ? { [text.name]: `Touched in round ${round}` } : {});
          updated++;
        }
        for (const n of rows.slice(updates)) {
          this.delete(o.name, salesforceId(o.keyPrefix, n + 1));
          deleted++;
        }
      }
      created += this.addRecords(o.name, creates).length;
    });
    return { objects: targets.length, updated, created, deleted, lastStamp: new Date(this.clock).toISOString() };
  }

  private countByPrefix(prefix: string): number {
    const name = this.prefixes.get(prefix);
    return name === undefined ? 1 : Math.max(1, this.counts.get(name)!);
  }

  /** The next modification time: strictly increasing, after every generated row. */
  private tick(): string {
    // Changes are stamped "now", as Salesforce does (and always later than the previous one).
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock).toISOString();
  }

  /** The generated value of one field of record n (what it holds unless a test changed it). */
  generated(o: SimObject, field: SimField, n: number): unknown {
    if (field.type === 'id') return salesforceId(o.keyPrefix, n + 1);
    if (field.calculated) {
      const set = this.formulas.get(o.name)?.get(field.name);
      if (set?.rows.has(n)) return set.rows.get(n);
      if (set?.every) return set.every.value;
    }
    const v = field.gen(n);
    // References always point at a row the org has: wrap into the target's row count.
    if (field.type === 'reference' && v !== null) return salesforceId(field.referenceTo ?? '000', ((v as number) % this.countByPrefix(field.referenceTo ?? '')) + 1);
    return v;
  }

  /** Whether a test updated or deleted record n (else it is exactly its generated values). */
  changed(o: SimObject, n: number): boolean {
    return this.updates.get(o.name)?.has(n) === true || this.deleted.get(o.name)?.has(n) === true;
  }

  /** Record n as the API returns it, or undefined when deleted and `includeDeleted` is off. */
  record(o: SimObject, n: number, includeDeleted: boolean, only?: readonly SimField[]): SimRecord | undefined {
    const deletedAt = this.deleted.get(o.name)?.get(n);
    if (deletedAt && !includeDeleted) return undefined;
    const row: SimRecord = {};
    for (const field of only ?? o.fields) row[field.name] = this.generated(o, field, n);
    const update = this.updates.get(o.name)?.get(n);
    if (update) Object.assign(row, update);
    if (deletedAt) Object.assign(row, { IsDeleted: true, SystemModstamp: deletedAt, LastModifiedDate: deletedAt });
    return row;
  }

  /** Whether record n is gone for good (hard-deleted or purged from the Recycle Bin). */
  isPurged(o: SimObject, n: number): boolean {
    return this.purged.get(o.name)?.has(n) === true;
  }

  *records(o: SimObject, includeDeleted: boolean): Generator<SimRecord> {
    const total = this.count(o.name);
    for (let n = 0; n < total; n++) {
      if (this.isPurged(o, n)) continue;
      const r = this.record(o, n, includeDeleted);
      if (r) yield r;
    }
  }

  private numberOf(o: SimObject, id: string): number {
    const n = recordNumber(id, o.keyPrefix);
    if (n === undefined || n < 1 || n > this.count(o.name)) throw new SoqlError('INVALID_ID_FIELD', `invalid id ${id} for ${o.name}`);
    if (this.isPurged(o, n - 1)) throw new SoqlError('ENTITY_IS_DELETED', `entity is deleted: ${id}`);
    return n - 1;
  }

  /** Changes fields of a record; SystemModstamp and LastModifiedDate move forward. */
  update(objectName: string, id: string, values: SimRecord): SimRecord {
    const o = this.object(objectName)!;
    const n = this.numberOf(o, id);
    const now = this.tick();
    const overlay = this.updates.get(o.name) ?? new Map<number, SimRecord>();
    this.updates.set(o.name, overlay);
    overlay.set(n, { ...overlay.get(n), ...values, SystemModstamp: now, LastModifiedDate: now });
    return this.record(o, n, true)!;
  }

  /** Deletes a record: it leaves query and shows in queryAll with IsDeleted = true. */
  delete(objectName: string, id: string): void {
    const o = this.object(objectName)!;
    const n = this.numberOf(o, id);
    const marks = this.deleted.get(o.name) ?? new Map<number, string>();
    this.deleted.set(o.name, marks);
    const at = this.tick();
    marks.set(n, at);
    this.logDelete(o, n, at);
  }

  private logDelete(o: SimObject, n: number, at: string): void {
    const log = this.deleteLog.get(o.name) ?? new Map<number, number>();
    this.deleteLog.set(o.name, log);
    log.set(n, Date.parse(at));
  }

  /**
   * Deletes a record for good (a hard delete, or an object without a Recycle Bin such as
   * CampaignMember): it leaves query and queryAll, through REST and Bulk alike.
   */
  hardDelete(objectName: string, id: string): void {
    const o = this.known(objectName);
    const n = this.numberOf(o, id);
    this.purge(o, n);
    // A hard delete skips the Recycle Bin, not the delete log.
    this.logDelete(o, n, this.tick());
  }

  /**
   * Empties the Recycle Bin (of one object, or all): deleted rows leave queryAll too, and the
   * object's delete log is purged with it (getDeleted then answers only after this moment). Returns how many.
   */
  emptyRecycleBin(objectName?: string): number {
    const objects = objectName === undefined ? [...this.objects.values()] : [this.known(objectName)];
    let purged = 0;
    for (const o of objects) {
      this.purgeDeleteLog(o.name);
      for (const n of this.deleted.get(o.name)?.keys() ?? []) {
        if (this.isPurged(o, n)) continue;
        this.purge(o, n);
        purged++;
      }
    }
    return purged;
  }

  /**
   * Purges an object's delete log (Salesforce's background purge of a log over its size limit,
   * or an emptied Recycle Bin): getDeleted no longer answers for any time before now.
   */
  purgeDeleteLog(objectName: string): void {
    const o = this.known(objectName);
    this.deleteLog.delete(o.name);
    this.deleteLogPurged.set(o.name, Date.parse(this.tick()));
  }

  /**
   * getDeleted's answer: the rows deleted in [startMs, endMs], oldest first, and the earliest time
   * the log still covers (its last purge, else the 15 days it keeps).
   */
  deletedBetween(objectName: string, startMs: number, endMs: number, nowMs: number): { earliest: number; records: { id: string; deletedMs: number }[] } {
    const o = this.known(objectName);
    const earliest = Math.max(this.deleteLogPurged.get(o.name) ?? 0, nowMs - DELETE_LOG_DAYS * 86_400_000);
    const records: { id: string; deletedMs: number }[] = [];
    for (const [n, at] of this.deleteLog.get(o.name) ?? []) if (at >= startMs && at <= endMs) records.push({ id: salesforceId(o.keyPrefix, n + 1), deletedMs: at });
    records.sort((a, b) => a.deletedMs - b.deletedMs || (a.id < b.id ? -1 : 1));
    return { earliest, records };
  }

  private known(objectName: string): SimObject {
    const o = this.object(objectName);
    if (!o) throw new SoqlError('INVALID_TYPE', `sObject type '${objectName}' is not supported.`);
    return o;
  }

  private purge(o: SimObject, n: number): void {
    const set = this.purged.get(o.name) ?? new Set<number>();
    this.purged.set(o.name, set);
    set.add(n);
  }

  /**
   * Gives a formula (calculated) field a new value, on one record or (no id) on every record, as
   * when a formula or what it reads changes: SystemModstamp does not move, as in Salesforce.
   */
  setFormula(objectName: string, fieldName: string, value: unknown, id?: string): void {
    const o = this.object(objectName);
    if (!o) throw new Error(`no object ${objectName}`);
    const field = this.field(o, fieldName);
    if (!field?.calculated) throw new Error(`${o.name}.${fieldName} is not a formula field`);
    const byField = this.formulas.get(o.name) ?? new Map();
    this.formulas.set(o.name, byField);
    const set = byField.get(field.name) ?? { rows: new Map<number, unknown>() };
    byField.set(field.name, set);
    if (id === undefined) {
      set.every = { value };
      set.rows.clear();
    } else set.rows.set(this.numberOf(o, id), value);
  }

  /** Adds a field to an object (new rows and old rows get generated values). */
  addField(objectName: string, field: SimField): void {
    const o = this.object(objectName)!;
    if (o.fields.some((f) => f.name.toLowerCase() === field.name.toLowerCase())) throw new Error(`${o.name}.${field.name} exists`);
    o.fields.push(field);
  }

  /** An admin deletes a custom field: describe and queries no longer know it. */
  removeField(objectName: string, fieldName: string): void {
    const o = this.object(objectName)!;
    const i = o.fields.findIndex((f) => f.name.toLowerCase() === fieldName.toLowerCase());
    if (i < 0 || !o.fields[i]!.custom) throw new Error(`${o.name}.${fieldName} is not a custom field of the simulator`);
    o.fields.splice(i, 1);
  }

  field(o: SimObject, name: string): SimField | undefined {
    return o.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
  }

  /**
   * Hides a field from the integration user, as a profile or permission set without read access
   * to it does (field-level security): describe still lists it, any SOQL naming it fails with
   * INVALID_FIELD as for a field that does not exist.
   */
  hideField(objectName: string, fieldName: string): void {
    const o = this.known(objectName);
    const field = this.field(o, fieldName);
    if (!field) throw new Error(`${o.name} has no field ${fieldName}`);
    const set = this.hidden.get(o.name) ?? new Set<string>();
    this.hidden.set(o.name, set);
    set.add(field.name);
  }

  /** Gives the integration user read access to a hidden field again. */
  unhideField(objectName: string, fieldName: string): void {
    const o = this.known(objectName);
    const field = this.field(o, fieldName);
    if (field) this.hidden.get(o.name)?.delete(field.name);
  }

  /** Whether the integration user can read a field (describe lists fields it cannot). */
  visible(o: SimObject, field: SimField): boolean {
    return !this.hidden.get(o.name)?.has(field.name);
  }

  /** A field a query may name: one the object has and the integration user can see. */
  private queryable(o: SimObject, name: string): SimField | undefined {
    const field = this.field(o, name);
    return field && this.visible(o, field) ? field : undefined;
  }

  /**
   * Runs a parsed query; errors are Salesforce's (INVALID_TYPE, INVALID_FIELD). The result holds
   * only the matching row numbers (and sort keys while sorting): records are generated again page
   * by page, so memory stays small however many rows an object has.
   */
  /** The CreatedDate index of an object's `total` rows (generated values; a test's own CreatedDate is not in it). */
  private createdIndex(o: SimObject, total: number): { order: Uint32Array; keys: Float64Array } | undefined {
    const field = this.field(o, 'CreatedDate');
    if (!field) return undefined;
    let index = this.createdIndexes.get(o.name);
    if (index?.rows !== total) {
      const keys = new Float64Array(total);
      for (let n = 0; n < total; n++) keys[n] = Date.parse(String(this.generated(o, field, n)));
      const order = new Uint32Array(total).map((_, n) => n).sort((a, b) => keys[a]! - keys[b]! || a - b);
      index = { rows: total, order, keys: new Float64Array(order.length).map((_, i) => keys[order[i]!]!) };
      this.createdIndexes.set(o.name, index);
    }
    return index;
  }

  /**
   * The first `limit` rows of a read ordered by CreatedDate (then Id), through the index, or
   * undefined when the read is not one of those (or the object is small enough to sort).
   */
  private firstByCreated(o: SimObject, q: Query, includeDeleted: boolean, total: number): number[] | undefined {
    const [by, then] = q.orderBy;
    if (q.limit === undefined || q.limit > 100 || total < 20_000 || by?.field.toLowerCase() !== 'createddate' || q.orderBy.length > 2) return undefined;
    if (then && (then.field.toLowerCase() !== 'id' || then.desc !== by.desc)) return undefined;
    if (this.updates.get(o.name) && [...this.updates.get(o.name)!.values()].some((u) => 'CreatedDate' in u)) return undefined;
    const index = this.createdIndex(o, total);
    if (!index) return undefined;
    const needed = [...new Set(conditionFields(q.where).map((name) => this.field(o, name)!))];
    const where = q.where ? compile(o, this, q.where) : () => true;
    const out: number[] = [];
    for (let i = 0; i < total && out.length < q.limit; i++) {
      const n = index.order[by.desc ? total - 1 - i : i]!;
      if (this.isPurged(o, n)) continue;
      const r = this.record(o, n, includeDeleted, needed);
      if (!r) continue;
      for (const field of needed) r[field.name] = comparable(field, r[field.name]);
      if (where(r)) out.push(n);
    }
    return out;
  }

  /**
   * The rows that may satisfy a filter's top-level bounds on CreatedDate (a superset, in row order),
   * or undefined to scan every row: no such bound, or an object small enough to scan.
   */
  private createdCandidates(o: SimObject, where: Condition | undefined, total: number): Uint32Array | undefined {
    if (!where || total < 20_000) return undefined;
    let lo = -Infinity;
    let hi = Infinity;
    const bounds = (c: Condition): void => {
      if (c.kind === 'and') return (bounds(c.left), bounds(c.right));
      if (c.kind !== 'compare' || c.field.toLowerCase() !== 'createddate' || typeof c.value !== 'object' || c.value === null) return;
      const at = Date.parse(c.value.datetime);
      if (c.op === '>' || c.op === '>=') lo = Math.max(lo, at);
      if (c.op === '<' || c.op === '<=') hi = Math.min(hi, at);
      if (c.op === '=') ((lo = Math.max(lo, at)), (hi = Math.min(hi, at)));
    };
    bounds(where);
    if (lo === -Infinity && hi === Infinity) return undefined;
    const index = this.createdIndex(o, total);
    if (!index) return undefined;
    const first = (value: number) => {
      let a = 0;
      let b = index!.keys.length;
      while (a < b) {
        const m = (a + b) >>> 1;
        if (index!.keys[m]! < value) a = m + 1;
        else b = m;
      }
      return a;
    };
    const from = first(lo);
    let to = first(hi);
    while (to < index.keys.length && index.keys[to] === hi) to++;
    // Rows whose CreatedDate a test set are checked whatever the index says.
    const moved = [...(this.updates.get(o.name) ?? new Map<number, SimRecord>()).entries()].filter(([, u]) => 'CreatedDate' in u).map(([n]) => n);
    const rows = new Uint32Array(to - from + moved.length);
    rows.set(index.order.subarray(from, to));
    rows.set(moved, to - from);
    return new Uint32Array(new Set(rows.sort())).sort();
  }

  run(q: Query, includeDeleted: boolean): { object: SimObject; fields: SimField[]; numbers: number[] } {
    const o = this.object(q.object);
    if (!o) {
      throw new SoqlError(
        'INVALID_TYPE',
        `\n${q.fields.join(', ')} FROM ${q.object}\n${' '.repeat(q.fields.join(', ').length + 6)}^\nERROR at Row:1:Column:${q.fields.join(', ').length + 13}\nsObject type '${q.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    // Salesforce answers a field the user cannot see exactly as one that does not exist.
    const select = q.fields.join(', ');
    const noSuchColumn = (name: string) => {
      const at = q.fields.findIndex((f) => f.toLowerCase() === name.toLowerCase());
      const column = at < 0 ? 1 : 8 + q.fields.slice(0, at).reduce((n, f) => n + f.length + 2, 0);
      return new SoqlError(
        'INVALID_FIELD',
        `\nSELECT ${select} FROM ${o.name}\n${' '.repeat(column - 1)}^\nERROR at Row:1:Column:${column}\nNo such column '${name}' on entity '${o.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    };
    const fields = q.fields.map((name) => {
      const field = this.queryable(o, name);
      if (!field) throw noSuchColumn(name);
      return field;
    });
    for (const name of [...conditionFields(q.where), ...q.orderBy.map((s) => s.field)]) {
      if (!this.queryable(o, name)) throw noSuchColumn(name);
    }
    const filters = o.requiresFilterOn;
    if (filters && !conditionFields(q.where).some((name) => filters.some((x) => x.toLowerCase() === name.toLowerCase())))
      throw new SoqlError(
        'MALFORMED_QUERY',
        `Implementation restriction: ${o.name} requires a filter by a single Id on ${filters.join(' or ')} using the equals operator or multiple Id's using the IN operator.`,
      );
    // Row numbers follow Id order (base62 digits sort in ASCII order), so ORDER BY Id needs no keys.
    const sortFields = q.orderBy.filter((s) => s.field.toLowerCase() !== 'id' || q.orderBy.length > 1 || s.desc);
    const numbers: number[] = [];
    const keys: unknown[][] = sortFields.map(() => []);
    const sortBy = sortFields.map((s) => this.field(o, s.field)!);
    const total = this.count(o.name);
    // Only the fields the filter and the order look at are generated here.
    const needed = [...new Set([...conditionFields(q.where), ...sortFields.map((s) => s.field)].map((name) => this.field(o, name)!))];
    const where = q.where ? compile(o, this, q.where) : () => true;
    const firstRows = this.firstByCreated(o, q, includeDeleted, total);
    if (firstRows) return { object: o, fields, numbers: firstRows };
    // A range of CreatedDate reads only the rows in it, as Salesforce's index on CreatedDate does.
    const scan = this.createdCandidates(o, q.where, total);
    const end = scan ? scan.length : total;
    for (let i = 0; i < end; i++) {
      const n = scan ? scan[i]! : i;
      // A query or job opened before a purge still returns what it found, as Salesforce's do.
      if (this.isPurged(o, n)) continue;
      const r = this.record(o, n, includeDeleted, needed);
      if (!r) continue;
      // Compared as numbers (datetimes) once per row, for the filter and the order alike.
      for (const field of needed) r[field.name] = comparable(field, r[field.name]);
      if (!where(r)) continue;
      numbers.push(n);
      for (let k = 0; k < sortBy.length; k++) keys[k]!.push(r[sortBy[k]!.name]);
      // Unordered with a LIMIT: any rows will do, so the scan stops (a LIMIT 1 probe of a large object stays cheap).
      if (sortFields.length === 0 && q.limit !== undefined && numbers.length >= q.limit) break;
    }
    const before = (a: number, b: number) => {
      for (let k = 0; k < sortFields.length; k++) {
        const c = compareKeys(keys[k]![a], keys[k]![b]);
        if (c !== 0) return sortFields[k]!.desc ? -c : c;
      }
      return a - b;
    };
    let order: number[];
    if (sortFields.length > 0 && q.limit !== undefined && q.limit <= 100) {
      // The first few rows of a large ordered read (ORDER BY CreatedDate LIMIT 1) without sorting them all.
      order = [];
      for (let i = 0; i < numbers.length; i++) {
        if (order.length === q.limit && before(i, order[order.length - 1]!) >= 0) continue;
        let at = order.length;
        while (at > 0 && before(i, order[at - 1]!) < 0) at--;
        order.splice(at, 0, i);
        if (order.length > q.limit) order.pop();
      }
    } else {
      order = numbers.map((_, i) => i);
      if (sortFields.length > 0) order.sort(before);
      if (q.limit !== undefined) order = order.slice(0, q.limit);
    }
    return { object: o, fields, numbers: order.map((i) => numbers[i]!) };
  }
}

function compareKeys(x: unknown, y: unknown): number {
  if (x === y) return 0;
  if (x === null || x === undefined) return -1; // Salesforce sorts nulls first by default
  if (y === null || y === undefined) return 1;
  return (x as number) < (y as number) ? -1 : 1;
}

function comparable(field: SimField | undefined, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && 'datetime' in v) return Date.parse(String((v as { datetime: string }).datetime));
  if (field?.type === 'datetime') return Date.parse(String(v));
  return v;
}

/** A WHERE condition as a test of a record whose fields hold comparable values. */
function compile(o: SimObject, org: SimOrg, c: Condition): (r: SimRecord) => boolean {
  if (c.kind !== 'compare') {
    const left = compile(o, org, c.left);
    const right = compile(o, org, c.right);
    return c.kind === 'and' ? (r) => left(r) && right(r) : (r) => left(r) || right(r);
  }
  const field = org.field(o, c.field)!;
  const name = field.name;
  const right = comparable(field, c.value as Literal) as number | string | boolean | null;
  const value = (r: SimRecord) => r[name] as number | string | boolean | null;
  switch (c.op) {
    case '=':
      return (r) => value(r) === right;
    case '!=':
      return (r) => value(r) !== right;
    case '<':
      return (r) => {
        const left = value(r);
        return left !== null && right !== null && left < right;
      };
    case '<=':
      return (r) => {
        const left = value(r);
        return left !== null && right !== null && left <= right;
      };
    case '>':
      return (r) => {
        const left = value(r);
        return left !== null && right !== null && left > right;
      };
    case '>=':
      return (r) => {
        const left = value(r);
        return left !== null && right !== null && left >= right;
      };
  }
}

/** A datetime as Salesforce's REST API writes it: 2026-01-01T00:00:00.000+0000. */
export function apiDatetime(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '+0000');
}
