import { describe, expect, it } from 'vitest';
import { columnsToFill } from '../../src/destinations/filled-columns';
import { FILLED_THROUGH_PROPERTY } from '../../src/table-contract';
import { rereadReason } from '../../src/sync/reread';

describe('when an incremental sync re-reads every row', () => {
  const cursor = '2026-01-01T00:00:00.000Z';

  it('a merge table that gained columns: yes, unless told not to', () => {
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: ['tier_c'] })).toBe('new-fields');
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: true })).toBe('new-fields');
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: false })).toBeUndefined();
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: [] })).toBeUndefined();
    expect(rereadReason({ writeMode: 'merge', after: cursor })).toBeUndefined();
  });

  it('refreshFormulas asks for it', () => {
    expect(rereadReason({ writeMode: 'merge', after: cursor, refreshFormulas: true })).toBe('formulas');
    expect(rereadReason({ writeMode: 'merge', after: cursor, refreshFormulas: false })).toBeUndefined();
    // Both at once: one read fills both; new fields named as the reason.
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: ['tier_c'], refreshFormulas: true })).toBe('new-fields');
    expect(rereadReason({ writeMode: 'merge', after: cursor, newColumns: ['tier_c'], backfillNewFields: false, refreshFormulas: true })).toBe('formulas');
  });

  it('never for replace (it reads everything anyway), append (it would add every row again) or a sync with no stored cursor (a full read already)', () => {
    for (const mode of ['replace', 'append'] as const) {
      expect(rereadReason({ writeMode: mode, after: cursor, newColumns: ['tier_c'], refreshFormulas: true })).toBeUndefined();
    }
    expect(rereadReason({ writeMode: 'merge', newColumns: ['tier_c'], refreshFormulas: true })).toBeUndefined();
  });
});

describe('columns the rows of a table were written without', () => {
  const columns = [
    { id: 1, name: 'id' },
    { id: 2, name: 'name' },
    { id: 5, name: 'tier_c' },
    { id: 6, name: 'segment_c' },
  ];

  it('are those above the field id the last commit filled through, whatever this prepare added (a sync that added them and committed nothing leaves them to the next)', () => {
    expect(columnsToFill(columns, { [FILLED_THROUGH_PROPERTY]: '4' }, [])).toEqual(['tier_c', 'segment_c']);
    expect(columnsToFill(columns, { [FILLED_THROUGH_PROPERTY]: '5' }, ['segment_c'])).toEqual(['segment_c']);
    expect(columnsToFill(columns, { [FILLED_THROUGH_PROPERTY]: '6' }, [])).toEqual([]);
  });

  it("are the columns this prepare added when the snapshot does not say (an earlier version's, another engine's, a new table's)", () => {
    expect(columnsToFill(columns, { operation: 'append' }, ['segment_c'])).toEqual(['segment_c']);
    expect(columnsToFill(columns, undefined, [])).toEqual([]);
    expect(columnsToFill(columns, { [FILLED_THROUGH_PROPERTY]: 'x' }, ['segment_c'])).toEqual(['segment_c']);
  });
});
