import { ApiBudget, DEFAULT_BUDGET, type UsageCounts } from '../../salesforce/budget';
import type { SalesforceClient } from '../../salesforce/client';
import type { ReadApi } from '../../salesforce/reader';
import type { Logger } from '../../log';

export interface BudgetedClientOptions {
  api?: ReadApi;
  /** What the sync spent before this attempt (prepare and earlier attempts). */
  spent?: UsageCounts;
  /** Cancels the request in flight, not only the next page. */
  signal?: AbortSignal;
  /** Told why a request is retried, why the sync waits for the budget, and what it spent so far. */
  progress?: (p: { retrying?: string; waiting?: string; usage?: UsageCounts }) => void;
  /** Where waits for the budget are logged. */
  log?: Logger;
  /** Reads the org's limits first, waiting or stopping when over budget (default true). */
  check?: boolean;
}

/**
 * The client an extraction reads through: cancellable, and counted and held by the org's API
 * budget. The org's limits are read before the object is (waiting or stopping when over budget).
 */
export async function budgetedClient(client: SalesforceClient, opts: BudgetedClientOptions): Promise<{ salesforce: SalesforceClient; budget: ApiBudget }> {
  const signalled = opts.signal ? client.withSignal(opts.signal, (retrying) => opts.progress?.({ retrying })) : client;
  const budget = new ApiBudget(client.settings.budget ?? DEFAULT_BUDGET, {
    bulk: opts.api !== 'rest',
    spent: opts.spent,
    onWaiting: (waiting) => {
      if (waiting) opts.log?.warn(waiting);
      else opts.log?.info('The Salesforce API budget allows reading again');
      opts.progress?.({ waiting });
    },
    onUsage: (usage) => opts.progress?.({ usage }),
  });
  const salesforce = signalled.withBudget(budget);
  if (opts.check !== false) await budget.check(salesforce);
  return { salesforce, budget };
}
