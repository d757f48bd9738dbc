import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import * as activities from './fixtures/smoke-activities';
import { stackSettings, uniqueName } from '../helpers/stack';
import { temporalConnection } from '../../worker/temporal-connection';

Runtime.install({ logger: new DefaultLogger('WARN') });

describe('Temporal dev server', () => {
  it('runs a workflow through a real worker and keeps its history', async () => {
    const settings = stackSettings();
    const taskQueue = uniqueName('smoke');
    const workerConnection = await NativeConnection.connect(temporalConnection(settings).options);
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: settings.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'smoke-workflows.ts'),
      activities,
    });
    const connection = await Connection.connect(temporalConnection(settings).options);
    const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE });
    try {
      const workflowId = uniqueName('smoke-wf');
      const result = await worker.runUntil(client.workflow.execute('smokeWorkflow', { taskQueue, workflowId, args: ['iceberg'] }));
      expect(result).toBe('hello iceberg, attempt 1 (from a workflow)');

      // The server persisted the run: its history holds the activity's completion.
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
      expect(completed).toHaveLength(1);
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.status.name).toBe('COMPLETED');
    } finally {
      await connection.close();
      await workerConnection.close();
    }
  });
});
