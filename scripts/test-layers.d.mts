/** scripts/test-layers.mjs: the test files of test/unit that start a Temporal dev server of their own. */
export declare const ORCHESTRATION_TESTS: string[];
