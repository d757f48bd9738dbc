import type { Client } from '@temporalio/client';

/** The sync's search attributes of a workflow, by name (not those Temporal sets itself). */
export async function salesforceSearchAttributes(client: Client, workflowId: string): Promise<Record<string, unknown>> {
  const { typedSearchAttributes } = await client.workflow.getHandle(workflowId).describe();
  return Object.fromEntries(
    typedSearchAttributes
      .getAll()
      .filter((p) => p.key.name.startsWith('Salesforce'))
      .map((p) => [p.key.name, p.value]),
  );
}
