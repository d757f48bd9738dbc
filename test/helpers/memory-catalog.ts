import crypto from 'node:crypto';
import type { LoadTableResult, TableRequirement, TableUpdate } from '../../src/iceberg/catalog';
import { CommitConflictError } from '../../src/iceberg/errors';
import type { NestedField, TableMetadata } from '../../src/iceberg/spec';

/**
 * One table's catalog in memory, for unit tests of commits and cleanup: every metadata it accepted
 * (oldest first, as a catalog's commit log), `assert-ref-snapshot-id` enforced, and faults a test
 * sets up — a hook before a commit is applied (a kill before the catalog answered) and an error
 * thrown before or after applying it (after: the answer lost).
 */
export class MemoryCatalog {
  readonly history: TableMetadata[] = [];
  /** Called with the next commit before it is applied; may throw. */
  beforeApply?: () => void;
  /** Throws this from the next commit, before applying it or (`applied`) after. */
  fail?: { error: Error; applied?: boolean };
  commits = 0;
  loads = 0;

  constructor(
    location: string,
    fields: NestedField[],
    /** Keep only the current snapshot, without its parent's id (as Nessie 0.99 does). */
    private readonly keepOnlyCurrent = false,
  ) {
    this.history.push({
      'format-version': 2,
      'table-uuid': crypto.randomUUID(),
      location,
      'last-sequence-number': 0n,
      'last-updated-ms': Date.now(),
      'last-column-id': fields.length,
      'current-schema-id': 0,
      schemas: [{ type: 'struct', 'schema-id': 0, 'identifier-field-ids': [1], fields }],
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: [] }],
      properties: {},
      snapshots: [],
      refs: {},
    });
  }

  get metadata(): TableMetadata {
    return this.history.at(-1)!;
  }

  async loadTable(): Promise<LoadTableResult> {
    this.loads++;
    return { metadata: structuredClone(this.metadata), 'metadata-location': `v${this.history.length}` };
  }

  async commitTable(_ns: string[], _name: string, requirements: TableRequirement[], updates: TableUpdate[]): Promise<LoadTableResult> {
    this.commits++;
    const hook = this.beforeApply;
    this.beforeApply = undefined;
    hook?.();
    const fail = this.fail;
    this.fail = undefined;
    if (fail && !fail.applied) throw fail.error;
    const next = structuredClone(this.metadata);
    for (const r of requirements) {
      if (r.type === 'assert-ref-snapshot-id' && (next.refs?.main?.['snapshot-id'] ?? null) !== r['snapshot-id']) throw new CommitConflictError('main moved');
    }
    for (const u of updates) {
      if (u.action === 'add-snapshot') {
        next.snapshots = [...(next.snapshots ?? []), u.snapshot];
        next['last-sequence-number'] = u.snapshot['sequence-number'];
      } else if (u.action === 'set-snapshot-ref') {
        next.refs = { ...next.refs, [u['ref-name']]: { 'snapshot-id': u['snapshot-id'], type: u.type } };
        next['current-snapshot-id'] = u['snapshot-id'];
      } else if (u.action === 'set-properties') next.properties = { ...next.properties, ...u.updates };
      else if (u.action === 'remove-snapshots') {
        const gone = new Set(u['snapshot-ids']);
        next.snapshots = next.snapshots!.filter((s) => !gone.has(s['snapshot-id']));
      }
    }
    if (this.keepOnlyCurrent) next.snapshots = next.snapshots!.filter((s) => s['snapshot-id'] === next['current-snapshot-id']).map(({ 'parent-snapshot-id': _, ...s }) => s);
    this.history.push(next);
    if (fail) throw fail.error;
    return { metadata: structuredClone(next), 'metadata-location': `v${this.history.length}` };
  }
}
