import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { temporalConnection } from '../../worker/temporal-connection';
import { defaultPayloadConverter } from '@temporalio/common';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readers } from '../helpers/readers';
import { stackSettings, uniqueName, until } from '../helpers/stack';
import { runSyncWorker } from '../helpers/in-process-worker';
import { SalesforceSimulator } from '../../src/salesforce-sim/server';

/** Debian's chromium (npm test installs it); CHROMIUM_PATH points elsewhere. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const settings = stackSettings();
const ui = settings.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
const sim = new SalesforceSimulator({ rowCounts: { Account: 30_000, Contact: 4_000 } });
const namespace = uniqueName('webui');
const taskQueue = uniqueName('webui');
let worker: { stop: () => Promise<void> };
let client: Client;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(chromiumPath)) throw new Error(`No Chromium at ${chromiumPath}: npm test installs Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH.`);
  await sim.start();
  // A checkpoint after every page: the first one reaches the child's current details at once.
  const env = { ...settings, ...sim.settingsEnv(), SYNC_LAG_MS: '0', SALESFORCE_READ_API: 'rest', SYNC_CHECKPOINT_SECONDS: '0' };
  worker = await runSyncWorker(env, taskQueue);
  client = new Client({ connection: await Connection.connect(temporalConnection(settings).options) });
  // Flags for a closed network: no background connections, no first-run or component updates.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await sim.stop();
  await readers('drop', namespace).catch(() => undefined);
});

describe('the Temporal Web UI shows a running sync (headless Chromium)', () => {
  it("the parent's per-object children by id and by object, each child's stage, and an extraction's heartbeat details (rows, files)", async () => {
    // Account's second page is held: the sync is running, with rows in a heartbeat, while the pages are looked at.
    const held = sim.hold({ path: '/query/', object: 'Account' });
    const workflowId = uniqueName('ui-sync');
    const handle = await client.workflow.start('salesforceSync', { taskQueue, workflowId, args: [{ objects: ['Account', 'Contact'], namespace }] });
    const child = `${workflowId}/Account`;
    await held.arrived;
    await until('the extraction to report rows in a heartbeat', async () => {
      const d = await client.workflow
        .getHandle(child)
        .describe()
        .catch(() => undefined);
      const pending = d?.raw.pendingActivities?.[0];
      const payload = pending?.activityType?.name === 'extractObject' ? pending.heartbeatDetails?.payloads?.[0] : undefined;
      return payload && defaultPayloadConverter.fromPayload<{ rows: number }>(payload).rows > 0 ? true : undefined;
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${handle.firstExecutionRunId}/relationships`);
      await page.getByText(`${workflowId}/Account`).first().waitFor({ timeout: 30_000 });
      await page.getByText(`${workflowId}/Contact`).first().waitFor({ timeout: 30_000 });

      // The parent's own page names its children by object (their summaries), in the timeline
      // of its history and in its user metadata, with each child's state.
      const parentPage = `${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${handle.firstExecutionRunId}`;
      await page.goto(`${parentPage}/history`);
      await page.getByText(`Account: incremental merge into ${namespace}`).first().waitFor({ timeout: 30_000 });
      await page.getByText(`Contact: incremental replace into ${namespace}`).first().waitFor({ timeout: 30_000 });
      await page.goto(`${parentPage}/user-metadata`);
      await page.getByText(`Account: incremental merge into ${namespace}`).first().waitFor({ timeout: 30_000 });
      expect(await page.locator('body').innerText()).toMatch(new RegExp(`Account: incremental merge into ${namespace}\\s+Started`));

      const childRun = (await client.workflow.getHandle(child).describe()).runId;
      const childPage = `${ui}/namespaces/default/workflows/${encodeURIComponent(child)}/${childRun}`;
      // The child's summary, details and current stage (the UI renders each markdown text in a
      // frame of its own), and its activities by their summaries.
      // The first checkpoint's figures have reached the child (its signal) before the page loads them.
      await until('the checkpoint to reach the child', async () => {
        const meta = await client.workflow.getHandle(child).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        return meta.currentDetails?.includes('at the last checkpoint') ? true : undefined;
      });
      await page.goto(`${childPage}/user-metadata`);
      await page.getByText('extract Account').first().waitFor({ timeout: 30_000 });
      await page.getByText('prepare Account').first().waitFor({ timeout: 30_000 });
      const rendered = await until("the child's summary, details and current details to render", async () => {
        const texts = await Promise.all(
          page
            .frames()
            .filter((f) => f.url().includes('/render?'))
            .map((f) =>
              f
                .locator('body')
                .innerText()
                .catch(() => ''),
            ),
        );
        return texts.some((t) => t.includes('stage: extracting') && /[1-9]\d* rows in [1-9]\d* files at the last checkpoint/.test(t)) ? texts : undefined;
      });
      expect(rendered).toContain(`Account: incremental merge into ${namespace}`);
      expect(rendered.join('\n')).toContain(`Salesforce object Account into Iceberg namespace ${namespace}`);
      expect(rendered.join('\n')).toContain(`Account → ${namespace}.account`);

      await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(child)}/${childRun}/pending-activities`);
      // The page shows the heartbeat as of its loading: reload until one with rows is shown.
      const text = await until('the pending-activities page to show a heartbeat with rows', async () => {
        await page.reload();
        await page.getByText('extractObject').first().waitFor({ timeout: 30_000 });
        const body = await page.locator('body').innerText();
        return /"rows":\s*[1-9]/.test(body) ? body : undefined;
      });
      expect(text).toMatch(/"files":\s*\d+/);
      expect(text).toContain('"object": "Account"');
    } finally {
      await page.close();
      held.release();
    }
    await handle.result();
  });
});
