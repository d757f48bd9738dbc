import * as pw from 'parquet-wasm/node';

/** How a Parquet file is encoded: plain data, so it can cross to an encoder thread. */
export interface EncodeOptions {
  rowGroupRows: number;
  /** Columns with few distinct values, the only ones dictionary-encoded (default: every column). */
  dictionaryColumns?: string[];
}

/**
 * zstd, row groups of `rowGroupRows`; with `dictionaryColumns`, only those columns are
 * dictionary-encoded. Dictionaries of columns with mostly distinct values (Ids, names, text) cost
 * about a third of the encoding time and make zstd's output larger, not smaller (measured on
 * Account rows: 8.3 → 5.4 µs per row, 1.61 → 1.23 MB per 20,000 rows).
 */
export function writerProperties(opts: EncodeOptions): pw.WriterProperties {
  let builder = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(opts.rowGroupRows).setCreatedBy('sf-iceberg');
  if (opts.dictionaryColumns) {
    builder = builder.setDictionaryEnabled(false);
    for (const name of opts.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(name, true);
  }
  return builder.build();
}

/**
 * One Parquet file encoded as a stream (in WebAssembly): row groups go in as Arrow IPC bytes, one
 * at a time; the file's bytes come out through `onBytes` as the encoder produces them. Used on the
 * main thread and inside encoder threads alike.
 */
export class ParquetEncodeStream {
  private queue: pw.RecordBatch[] = [];
  private closed = false;
  private wake?: () => void;
  /** Pushes waiting for the encoder to take every queued row group. */
  private drained: (() => void)[] = [];
  readonly done: Promise<void>;

  constructor(opts: EncodeOptions, onBytes: (bytes: Uint8Array) => Promise<void> | void) {
    const input = new ReadableStream<pw.RecordBatch>(
      {
        pull: (controller) => {
          const next = () => {
            const batch = this.queue.shift();
            if (this.queue.length === 0) for (const resolve of this.drained.splice(0)) resolve();
            if (batch) controller.enqueue(batch);
            else if (this.closed) controller.close();
            else return false;
            return true;
          };
          if (next()) return;
          return new Promise<void>((resolve) => {
            this.wake = () => {
              if (next()) {
                this.wake = undefined;
                resolve();
              }
            };
          });
        },
      },
      { highWaterMark: 0 },
    );
    const output = pw.transformParquetStream(input, writerProperties(opts));
    this.done = (async () => {
      const reader = (await output).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await onBytes(value);
      }
    })();
  }

  /** Queues one row group (Arrow IPC stream bytes); resolves once the encoder has taken it. */
  async push(ipc: Uint8Array): Promise<void> {
    const wasm = pw.Table.fromIPCStream(ipc);
    this.queue.push(...wasm.recordBatches());
    // WebAssembly objects are not garbage collected: without this every row group stays in memory.
    wasm.free();
    // Its output is not awaited: the encoder emits bytes only once enough have accumulated.
    const taken = new Promise<void>((resolve) => this.drained.push(resolve));
    this.wake?.();
    await Promise.race([taken, this.done]);
  }

  /** Encodes what is queued and ends the file. */
  async finish(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.done;
  }
}
