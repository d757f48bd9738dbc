import { describe, expect, it } from 'vitest';
import { liveRowsOf } from '../../src/destinations/iceberg';
import { countAfterCommit } from '../../src/sync/object-sync';
import type { PreparedObject, SyncContext } from '../../src/sync/types';

/** A context whose destination counts its liveRows reads (the only part countAfterCommit touches). */
function context(rows: number | undefined) {
  const reads = { count: 0 };
  const ctx = { destination: { liveRows: async () => (reads.count++, rows) } } as unknown as SyncContext;
  return { ctx, reads };
}
const p = { object: 'Account', namespace: ['ns'], table: 'account' } as PreparedObject;

describe('count check after a commit', () => {
  it("takes the table's live rows from the commit when it reported them: no second read of the table", async () => {
    const { ctx, reads } = context(99);
    expect(await countAfterCommit(ctx, p, { salesforce: 12 }, 12)).toEqual({ countCheck: { salesforce: 12, table: 12 } });
    const mismatched = await countAfterCommit(ctx, p, { salesforce: 12 }, 10);
    expect(mismatched.countCheck).toEqual({ salesforce: 12, table: 10 });
    expect(mismatched.mismatch).toMatch(/^Count check of Account: Salesforce has 12 rows for what the table holds, the table 10\./);
    expect(reads.count).toBe(0);
  });

  it('a commit whose metadata cannot tell (null) skips the comparison; one that reported nothing has the table read', async () => {
    const { ctx, reads } = context(7);
    expect((await countAfterCommit(ctx, p, { salesforce: 7 }, null)).countCheck).toEqual({ salesforce: 7, skipped: expect.stringMatching(/equality deletes/) });
    expect(reads.count).toBe(0);
    expect((await countAfterCommit(ctx, p, { salesforce: 7 })).countCheck).toEqual({ salesforce: 7, table: 7 });
    expect(reads.count).toBe(1);
  });

  it("a snapshot summary's live rows: records less position deletes; unknown with equality deletes or without totals", () => {
    expect(liveRowsOf({ 'total-records': '100', 'total-position-deletes': '3' })).toBe(97);
    expect(liveRowsOf({ 'total-records': '100' })).toBe(100);
    expect(liveRowsOf({ 'total-records': '100', 'total-equality-deletes': '1' })).toBeUndefined();
    expect(liveRowsOf({ operation: 'append' })).toBeUndefined();
  });
});
