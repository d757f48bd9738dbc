import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';

// Replay needs no server: recorded histories are fed to the workflow code in this process.
Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });

const kept = path.join(__dirname, '..', 'histories');

/**
 * Histories exported with `temporal workflow show -w <id> -o json`. A parent's child ids derive from
 * its own id, so its file is named `<type>--<workflow id>.json`.
 */
const histories = fs
  .readdirSync(kept)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(kept, file), 'utf8')));
    const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    const workflowId = file.includes('--') ? file.slice(file.indexOf('--') + 2, -'.json'.length) : file;
    return { file, type, workflowId, history };
  });

async function replay(options: Parameters<typeof Worker.runReplayHistories>[0], of: typeof histories): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories(options, of)) results.push(result);
  return results;
}

let code: string;

beforeAll(async () => {
  ({ code } = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', '..', 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') }));
});

describe('kept workflow histories', () => {
  it('cover the sync workflows and table maintenance', () => {
    expect(new Set(histories.map((h) => h.type))).toEqual(new Set(['salesforceSync', 'syncObject', 'maintainTable']));
  });

  it('replay against the current workflow code without errors', async () => {
    const results = await replay({ workflowBundle: { code }, replayName: 'kept' }, histories);
    // Pairs, so a failure names its history.
    expect(results.map((r, i) => [histories[i]!.file, r.error?.message])).toEqual(histories.map((h) => [h.file, undefined]));
  });

  it('replay when their input names the read and write modes by their old key, `mode`', async () => {
    // What the code before readMode and writeMode recorded for such an input (Schedules still hold
    // such inputs): the parent's input, each child's input, its summary, details and search attributes.
    const parent = 'salesforceSync--ui-sync_mwvdttsr_xpty92.json';
    const json = JSON.parse(fs.readFileSync(path.join(kept, parent), 'utf8')) as { events: Record<string, any>[] };
    const data = (payload: { data: string }) => JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
    const set = (payload: { data: string }, value: unknown) => (payload.data = Buffer.from(JSON.stringify(value)).toString('base64'));
    let children = 0;
    for (const event of json.events) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) set(started.input.payloads[0], { ...data(started.input.payloads[0]), mode: 'full', overrides: { Account: { mode: 'append' } } });
      const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
      if (!child) continue;
      children++;
      const { object, namespace, full, ...rest } = data(child.input.payloads[0]);
      expect(full).toBe(false);
      const writeMode = object === 'Account' ? 'append' : 'replace';
      set(child.input.payloads[0], { object, namespace, ...(object === 'Account' ? { mode: 'append' } : {}), full: true, ...rest });
      set(event.userMetadata.summary, data(event.userMetadata.summary).replace(/^(\w+): incremental \w+/, `$1: full ${writeMode}`));
      set(
        event.userMetadata.details,
        data(event.userMetadata.details)
          .replace(/- read: .*/, '- read: full (every row, stored cursor ignored)')
          .replace(/- write: .*/, `- write: ${writeMode}`),
      );
      set(child.searchAttributes.indexedFields.SalesforceSyncMode, 'full');
      set(child.searchAttributes.indexedFields.SalesforceWriteMode, writeMode);
    }
    expect(children).toBe(2);
    const history = historyFromJSON(json);
    const [result] = await replay({ workflowBundle: { code }, replayName: 'old names' }, [
      { file: parent, type: 'salesforceSync', workflowId: 'ui-sync_mwvdttsr_xpty92', history },
    ]);
    expect(result?.error?.message).toBeUndefined();
  });

  it('fail to replay against a changed syncObject (so the test above can fail)', async () => {
    const objects = histories.filter((h) => h.type === 'syncObject');
    expect(objects.length).toBeGreaterThan(0);
    const workflowsPath = path.join(__dirname, 'fixtures', 'reordered-workflows.ts');
    const results = await replay({ workflowsPath, replayName: 'reordered' }, objects);
    expect(results).toHaveLength(objects.length);
    for (const r of results) {
      expect(r.error).toBeInstanceOf(DeterminismViolationError);
      // Cleanup moved before commit; a partitioned history already differs at its patch (the plan), a later one at its wait for maintenance.
      expect(r.error?.message).toMatch(/cleanupObject|patch marker encountered for change (partitions|maintenance-wait)/);
    }
  });
});
