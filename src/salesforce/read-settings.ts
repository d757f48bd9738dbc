/** Settings of how objects are read from Salesforce (src/salesforce/reader.ts, bulk-reader.ts). */
import { z } from 'zod';
import { integerSetting, settingsArea } from '../config/define';

export const salesforceReadArea = settingsArea('salesforce', {
  SALESFORCE_READ_API: {
    schema: z.enum(['auto', 'bulk', 'rest'], { message: 'must be auto, bulk or rest' }),
    description: 'auto (Bulk API 2.0, REST where Bulk is refused), bulk or rest',
    default: 'auto',
  },
  SALESFORCE_REST_WINDOW_ROWS: {
    schema: integerSetting(0),
    description:
      "with auto, an incremental window of at most this many rows (a COUNT() prepare takes) is read through REST: one query answers at once, where a Bulk job waits in Salesforce's queue and spends one of the org's daily Bulk jobs; larger windows, full reads and reconciliations use Bulk; 0: always Bulk",
    default: '10000',
  },
  SALESFORCE_BULK_PAGES_IN_FLIGHT: {
    schema: integerSetting(1, 16),
    description:
      'Bulk result pages one extraction downloads at once (API 62.0 and later; earlier versions read one page ahead); a partition keeps at most 2 (partitions already download side by side); memory grows with it',
    default: '4',
  },
  SALESFORCE_BULK_MIN_SLICE_MINUTES: {
    schema: integerSetting(1),
    description:
      "a Bulk job that Salesforce fails (e.g. QUERY_TIMEOUT) is run again over halves of its time window, down to windows this long; then the sync fails with the job's message",
    default: '60',
  },
});

export type SalesforceReadSettings = z.output<typeof salesforceReadArea.schema>;
