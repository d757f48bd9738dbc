import type { WorkflowHandle } from '@temporalio/client';

/**
 * Prints a sync's per-object progress (its `progress` query) whenever it changes, every second,
 * until the returned function is called.
 */
export function followProgress(handle: WorkflowHandle, print: (line: string) => void = (l) => console.log(`  ${l}`)): () => void {
  let last = '';
  const timer = setInterval(() => {
    handle
      .query<Record<string, string>>('progress')
      .then((p) => {
        const line = Object.entries(p)
          .map(([o, s]) => `${o}: ${s}`)
          .join(' | ');
        if (line !== last) print(line);
        last = line;
      })
      .catch(() => undefined); // not started yet, or already closed
  }, 1000);
  return () => clearInterval(timer);
}
