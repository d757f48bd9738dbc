import { z } from 'zod';
import { httpUrl, parseArea, settingsArea } from './define';

/** host:port with a port Temporal's client accepts (the SDK's own error names neither). */
const hostPort = z.string().superRefine((v, ctx) => {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(v);
  if (!m) ctx.addIssue({ code: 'custom', message: 'must be host:port (e.g. 127.0.0.1:7233), without a scheme' });
  else if (Number(m[2]) < 1 || Number(m[2]) > 65535) ctx.addIssue({ code: 'custom', message: 'has a port outside 1-65535' });
});

/** How the worker and the commands reach Temporal. */
export const temporalArea = settingsArea('temporal', {
  TEMPORAL_ADDRESS: { schema: hostPort, description: 'Temporal frontend host:port', default: '127.0.0.1:7233' },
  TEMPORAL_NAMESPACE: { schema: z.string(), description: 'Temporal namespace', default: 'default' },
  TEMPORAL_TASK_QUEUE: { schema: z.string(), description: 'task queue of the worker (and of the workflows the commands start)', default: 'salesforce-sync' },
  TEMPORAL_UI_URL: { schema: httpUrl('the Temporal Web UI'), description: 'Web UI, for links in output', default: 'http://127.0.0.1:8233' },
});

export type TemporalSettings = z.output<typeof temporalArea.schema>;

export function temporalSettingsProblems(env: Record<string, string | undefined>): string[] {
  return parseArea(temporalArea, env).problems;
}

/** Validated Temporal settings, defaults applied; throws listing every problem. */
export function parseTemporalSettings(env: Record<string, string | undefined>): TemporalSettings {
  const parsed = parseArea(temporalArea, env);
  if (!parsed.ok) throw new Error(`Invalid Temporal settings:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`);
  return parsed.value;
}
