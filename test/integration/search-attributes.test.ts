import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';
import { syncHarness } from '../helpers/sync-harness';
import { uniqueName, until } from '../helpers/stack';
import { temporalCliPath } from '../helpers/temporal-cli';

const sim = new SalesforceSimulator({ rowCounts: { Account: 300, Contact: 120 } });
// A second worker whose S3 secret is wrong: its syncs fail at once, for good.
const harness = syncHarness({ name: 'search_attrs', sim, workers: { 'bad-s3': { S3_SECRET_ACCESS_KEY: 'not-the-secret-key' } } });

/** The workflow ids a visibility query lists, once it lists `count` (visibility is written just after the fact). */
async function listed(query: string, count: number): Promise<string[]> {
  return until(`${count} workflows listed by ${query}`, async () => {
    const ids: string[] = [];
    for await (const w of harness.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.length >= count ? ids.sort() : undefined;
  });
}

describe("syncs listed by the search attributes of their objects' workflows (stack up registers them)", () => {
  it("a failed Account sync by SalesforceObject and ExecutionStatus, a succeeded one's rows by SalesforceRows", async () => {
    const namespace = harness.namespace();
    const failedId = uniqueName('sync');
    const failure = await harness.sync({ objects: ['Account'], namespace }, { queue: 'bad-s3', workflowId: failedId }).then(
      () => undefined,
      (e: { cause?: Error }) => e.cause,
    );
    expect(failure?.message).toMatch(/1 of 1 objects failed: Account: .*S3_SECRET_ACCESS_KEY/);
    const okId = uniqueName('sync');
    const outcomes = await harness.sync({ objects: ['Account', 'Contact'], namespace, readMode: 'full' }, { workflowId: okId });
    expect(outcomes.map((o) => [o.object, o.status, o.result?.rows])).toEqual([
      ['Account', 'succeeded', 300],
      ['Contact', 'succeeded', 120],
    ]);

    const inThisTest = `SalesforceNamespace='${namespace}'`;
    expect(await listed(`SalesforceObject='Account' AND ExecutionStatus='Failed' AND ${inThisTest}`, 1)).toEqual([`${failedId}/Account`]);
    expect(await listed(`SalesforceObject='Account' AND ExecutionStatus='Completed' AND ${inThisTest}`, 1)).toEqual([`${okId}/Account`]);
    expect(await listed(`SalesforceRows >= 300 AND ${inThisTest}`, 1)).toEqual([`${okId}/Account`]);
    expect(await listed(`SalesforceSyncMode='full' AND SalesforceWriteMode='replace' AND ${inThisTest}`, 1)).toEqual([`${okId}/Contact`]);
    const described = await harness.client.workflow.getHandle(`${okId}/Contact`).describe();
    expect(
      described.typedSearchAttributes
        .getAll()
        .filter((p) => p.key.name.startsWith('Salesforce'))
        .map((p) => [p.key.name, p.value])
        .sort(),
    ).toEqual(
      [
        ['SalesforceNamespace', namespace],
        ['SalesforceObject', 'Contact'],
        ['SalesforceRows', 120],
        ['SalesforceSyncMode', 'full'],
        ['SalesforceWriteMode', 'replace'],
      ].sort(),
    );

    // The README's command, with the Temporal CLI.
    const { stdout } = await promisify(execFile)(temporalCliPath(), [
      'workflow',
      'list',
      '--address',
      harness.settings.TEMPORAL_ADDRESS,
      '--namespace',
      harness.settings.TEMPORAL_NAMESPACE,
      '--query',
      `SalesforceObject='Account' AND ExecutionStatus='Failed' AND ${inThisTest}`,
      '--output',
      'json',
    ]);
    expect((JSON.parse(stdout) as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId)).toEqual([`${failedId}/Account`]);
  });
});
