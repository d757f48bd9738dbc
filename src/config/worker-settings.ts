/**
 * Settings of the worker process (`npm run worker`, worker/): what it logs and how much it runs at
 * once. Declared here, below the layers that gather every area's settings, as the Temporal
 * connection's are.
 */
import { z } from 'zod';
import { booleanSetting, integerSetting, secondsSetting, settingsArea } from './define';

export const workerArea = settingsArea('worker', {
  WORKER_LOG_LEVEL: {
    schema: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { message: 'must be TRACE, DEBUG, INFO, WARN or ERROR' }),
    description: "what npm run worker logs (Temporal's logger): DEBUG adds a line per Salesforce page, WARN only retries, fallbacks and waits",
    default: 'INFO',
  },
  WORKER_MEMORY_LOG_SECONDS: {
    schema: secondsSetting('of at least 0', 0),
    description: 'the worker logs its memory (RSS and peak, V8 heap, buffers, WebAssembly and encoder threads) this often, and its peak at exit; 0: never',
    default: '0',
  },
  WORKER_MAX_ACTIVITIES: { schema: integerSetting(1), description: 'activities a worker runs at once (partitions apart: WORKER_MAX_PARTITIONS)', default: '8' },
  WORKER_MAX_PARTITIONS: {
    schema: integerSetting(1),
    description:
      "partitions (of any object) a worker extracts at once: what sizes a worker's memory during a large sync; more partitions at once spread over more workers (SYNC_PARTITIONS_IN_FLIGHT)",
    default: '1',
  },
  WORKER_PREFLIGHT: {
    schema: booleanSetting,
    description: 'false: npm run worker starts polling without running the checks of npm run check first (npm run worker -- --no-preflight does the same)',
    default: 'true',
  },
});

export type WorkerSettings = z.output<typeof workerArea.schema>;
