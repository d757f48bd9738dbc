import type { ParquetEncoderPool } from '../src/parquet/encoder-pool';
import fs from 'node:fs';

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** The process's peak resident memory (Linux: VmHWM; elsewhere the OS's max RSS), in bytes. */
export function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** One line of the worker's memory: what RSS is made of, as Node sees it (threads' heaps are in RSS only). */
export function memoryLine(extra: () => string = () => ''): string {
  const m = process.memoryUsage();
  return `Worker memory: RSS ${mb(m.rss)} MB (peak ${mb(peakRss())} MB); V8 heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB; off-heap ${mb(m.external)} MB, of it ArrayBuffers ${mb(m.arrayBuffers)} MB${extra()}`;
}

/** Linear memory of this thread's Parquet WebAssembly, when it has been loaded (it only grows). */
export function wasmMemoryBytes(): number | undefined {
  const id = Object.keys(require.cache).find((k) => /parquet-wasm[\\/]node[\\/]parquet_wasm\.js$/.test(k));
  const pw = id ? (require.cache[id]?.exports as { wasmMemory?: () => { buffer: ArrayBuffer } } | undefined) : undefined;
  return pw?.wasmMemory?.().buffer.byteLength;
}

/**
 * WORKER_MEMORY_LOG_SECONDS: a line every so often, to see what a sync's memory is made of (the
 * bench's figures are the peak only). Unref'd: it never keeps the worker alive.
 */
export function startMemoryLog(everySeconds: number, log: (line: string) => void, encoders?: ParquetEncoderPool): () => void {
  if (everySeconds <= 0) return () => undefined;
  const extra = () => {
    const wasm = wasmMemoryBytes();
    const pool = encoders?.memory();
    return `${wasm === undefined ? '' : `; Parquet WebAssembly ${mb(wasm)} MB`}${pool?.threads ? `; ${pool.threads} encoder thread(s), their WebAssembly ${mb(pool.wasmBytes)} MB` : ''}`;
  };
  const timer = setInterval(() => log(memoryLine(extra)), everySeconds * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    log(memoryLine(extra));
  };
}
