import { defineConfig } from 'vitest/config';
import { ORCHESTRATION_TESTS as ORCHESTRATION } from './scripts/test-layers.mjs';

/**
 * Three layers (scripts/test.mjs runs them in this order):
 *
 * - unit: no server and nothing installed beyond npm's packages; files run side by side
 *   (`npx vitest run --project unit --fileParallelism`, as `npm run test:unit` does);
 * - orchestration: workflows against a Temporal dev server that each file starts from the cached
 *   Temporal CLI (TestWorkflowEnvironment.createLocal), one file at a time;
 * - integration: the local stack's real servers, shared by every file, one file at a time.
 *
 * Files run one at a time unless told otherwise (fileParallelism is not a per-project option):
 * what needs servers must never run side by side on this 2-core machine.
 */
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The simulator's Bulk jobs skip their queue time (DEFAULT_BULK_QUEUE_MS): the bench and `npm run sim` keep it.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SIM_BULK_QUEUE_MS: '0' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: ORCHESTRATION } },
      { extends: true, test: { name: 'orchestration', include: ORCHESTRATION } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
    ],
  },
});
