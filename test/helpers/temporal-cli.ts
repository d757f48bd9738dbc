import fs from 'node:fs';
import path from 'node:path';
import { stackPaths } from '../../scripts/stack/paths';
import { which } from '../../scripts/stack/toolchain';

/**
 * The Temporal CLI the tests start their own dev server with: the one on PATH, else the one the
 * stack builds into its cache. Never downloaded here, so tests work offline and pin one version.
 */
export function temporalCliPath(): string {
  const onPath = which('temporal');
  if (onPath) return onPath;
  const cached = path.join(stackPaths.cacheBin, 'temporal');
  if (fs.existsSync(cached)) return cached;
  throw new Error(`No Temporal CLI on PATH or at ${cached}: run \`npm run stack -- install\` once to build it.`);
}
