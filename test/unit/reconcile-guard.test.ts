import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONCILE_MAX_SHARE, tooManyGone } from '../../src/sync/reconcile';

/* A reconciliation that would remove more of a table than the setting allows removes nothing. */

describe('reconciliation guard', () => {
  it('lets a reconciliation remove up to the share, refuses more with both counts and the setting that allows it', () => {
    expect(DEFAULT_RECONCILE_MAX_SHARE).toBe(0.1);
    expect(tooManyGone('Account', 10, 100, 0.1)).toBeUndefined();
    expect(tooManyGone('Account', 0, 0, 0.1)).toBeUndefined();
    const refused = tooManyGone('Account', 11, 100, 0.1)!;
    expect(refused).toContain("found 11 of the table's 100 rows (11 %)");
    expect(refused).toContain('SYNC_RECONCILE_MAX_PERCENT (10 %)');
    expect(refused).toContain('nothing was removed');
    expect(refused).toContain('SYNC_RECONCILE_MAX_PERCENT=11');
    // 100 % allows anything, 0 % nothing.
    expect(tooManyGone('Account', 100, 100, 1)).toBeUndefined();
    expect(tooManyGone('Account', 1, 1_000_000, 0)).toContain('SYNC_RECONCILE_MAX_PERCENT=1');
  });
});
