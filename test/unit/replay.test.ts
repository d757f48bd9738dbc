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
