// The test files of test/unit that start a Temporal dev server of their own from the cached
// Temporal CLI (TestWorkflowEnvironment.createLocal): the orchestration layer. Every other file of
// test/unit needs no server and nothing installed beyond npm's packages. Read by vitest.config.mts
// and scripts/test.mjs.
export const ORCHESTRATION_TESTS = ['test/unit/workflows.test.ts', 'test/unit/search-attributes.test.ts', 'test/unit/atomic-publish.test.ts'];
