/** Settings of the Parquet data files the product writes (src/parquet/). */
import type { z } from 'zod';
import { integerSetting, settingsArea } from '../config/define';

export const parquetArea = settingsArea('parquet', {
  PARQUET_ENCODER_THREADS: {
    schema: integerSetting(0, 16),
    description:
      "threads (worker_threads) that encode and compress Parquet while the activity's thread parses Salesforce pages and builds the next row group; shared by the worker's activities (table maintenance included); 0: encode on the activity's thread",
    default: '1',
  },
});

export type ParquetSettings = z.output<typeof parquetArea.schema>;
