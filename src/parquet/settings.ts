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
  PARQUET_MAX_OPEN_PARTITIONS: {
    schema: integerSetting(1, 10_000),
    description:
      "partitions of a partitioned (or sorted) table that one extraction or compaction has a data file open for (or rows buffered for sorting) at once; when another is needed the least recently used one's file is closed, so memory stays bounded by this many files in the making (up to about 25 MB each on Account-shaped rows); rows read in partition order (Id order follows CreatedDate) keep only a few open. Rows in no order over more partitions than this give small files (maintenance compacts them): the default takes monthly partitions of four years, or 48 buckets, in any order",
    default: '48',
  },
  PARQUET_SORT_BUFFER_MB: {
    schema: integerSetting(1, 4096),
    description:
      'raw megabytes of rows an extraction or compaction buffers (all partitions together) to sort the rows of a table that has a sort order; a buffer is sorted and written as one data file when it fills',
    default: '64',
  },
});

/** The layout limits of a worker's writers (PartitionedWriter's options) from its settings. */
export function layoutLimits(settings: ParquetSettings): { maxOpenPartitions: number; sortBufferBytes: number } {
  return { maxOpenPartitions: settings.PARQUET_MAX_OPEN_PARTITIONS, sortBufferBytes: settings.PARQUET_SORT_BUFFER_MB * 1024 * 1024 };
}

export type ParquetSettings = z.output<typeof parquetArea.schema>;
