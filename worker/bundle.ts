/**
 * Bundles the workflow code (webpack) into a file, run as its own short-lived process by the
 * worker: bundling needs some 150 MB that a long-running worker would otherwise keep as RSS.
 *   node --import tsx worker/bundle.ts <output file>
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const out = process.argv[2];
if (!out) throw new Error('usage: bundle.ts <output file>');
bundleWorkflowCode({
  workflowsPath: path.join(__dirname, '..', 'workflows', 'index.ts'),
  logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
})
  .then(({ code }) => {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const temp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(temp, code);
    fs.renameSync(temp, out);
  })
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
