/** Settings of the checks of `npm run check` (src/preflight/checks.ts), which the worker runs at start too. */
import { z } from 'zod';
import { secondsSetting, settingsArea } from '../config/define';

export const preflightArea = settingsArea('preflight', {
  PREFLIGHT_TIMEOUT_SECONDS: {
    schema: secondsSetting('above 0', 0.001),
    description: 'each check of npm run check (and of the worker at start) gives up after this long',
    default: '10',
  },
  PREFLIGHT_OBJECT: {
    schema: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'must be a Salesforce object name' }),
    description: 'the Salesforce object npm run check describes',
    default: 'Account',
  },
});

export type PreflightSettings = z.output<typeof preflightArea.schema>;
