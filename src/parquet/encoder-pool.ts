import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EncodeOptions } from './encode-stream';
import type { EncoderReply, EncoderRequest } from './encoder-thread';
import { ERROR_CODES, SyncError } from '../errors';

/** A file being encoded on a pool thread: row groups in, its bytes out through the file's `onBytes`. */
export interface RemoteEncodeFile {
  /** Sends one row group (Arrow IPC bytes, handed over); resolves when at most one row group waits for the encoder. */
  push(ipc: Uint8Array): Promise<void>;
  /** Resolves once the encoder emitted the file's last bytes and `onBytes` handled them all. */
  finish(): Promise<void>;
}

interface OpenFile {
  worker: Worker;
  onBytes: (bytes: Uint8Array) => Promise<void>;
  /** Bytes handed to onBytes, in order. */
  written: Promise<void>;
  untaken: number;
  takenWaiters: (() => void)[];
  done?: { resolve: () => void; reject: (e: Error) => void };
  error?: Error;
}

/**
 * Parquet encoding (and zstd) off the main thread: `threads` worker threads, each encoding the files
 * it is given. The thread that parses Salesforce pages and builds columns hands each row group over
 * and goes on building the next while it is encoded (one row group may wait per file, so memory
 * stays at a few row groups). A file sticks to one thread; new files go to the least busy one.
 */
export class ParquetEncoderPool {
  private readonly workers: { worker: Worker; files: number; wasmBytes: number }[] = [];
  private readonly files = new Map<number, OpenFile>();
  private nextId = 1;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new SyncError(`an encoder pool needs at least one thread, not ${threads}`, { code: ERROR_CODES.INTERNAL, retryable: false });
  }

  /** Threads started and their WebAssembly memory (last reported), for the worker's memory log. */
  memory(): { threads: number; wasmBytes: number } {
    return { threads: this.workers.length, wasmBytes: this.workers.reduce((n, w) => n + w.wasmBytes, 0) };
  }

  private start(): { worker: Worker; files: number; wasmBytes: number } {
    const root = path.join(__dirname, '..', '..');
    // The thread runs TypeScript through tsx's CommonJS hook (its ESM loader does not register
    // inside worker threads).
    const hook = path.join(root, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs');
    const entry = path.join(__dirname, 'encoder-thread.ts');
    const worker = new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(entry)});`, { eval: true });
    const started = { worker, files: 0, wasmBytes: 0 };
    worker.on('message', (m: EncoderReply) => {
      if ('wasmBytes' in m) started.wasmBytes = m.wasmBytes;
      this.receive(m);
    });
    worker.on('error', (error) => this.failAll(started, error));
    worker.on('exit', (code) => this.failAll(started, new SyncError(`a Parquet encoder thread exited (${code})`, { code: ERROR_CODES.PARQUET_ENCODER_FAILED, retryable: true })));
    // An idle thread must not keep the process alive; one encoding a file must (see open).
    // Listeners ref the thread again: unref last.
    worker.unref();
    return started;
  }

  private failAll(entry: { worker: Worker; files: number; wasmBytes: number }, error: Error): void {
    const i = this.workers.indexOf(entry);
    if (i >= 0) this.workers.splice(i, 1);
    for (const [id, f] of this.files) if (f.worker === entry.worker) this.fail(id, error);
  }

  private fail(id: number, error: Error): void {
    const f = this.files.get(id);
    if (!f) return;
    f.error ??= error;
    for (const w of f.takenWaiters.splice(0)) w();
    f.done?.reject(f.error);
  }

  private receive(m: EncoderReply): void {
    const f = this.files.get(m.id);
    if (!f) return;
    switch (m.type) {
      case 'bytes':
        f.written = f.written.then(() => (f.error ? undefined : f.onBytes(m.bytes))).catch((error: Error) => this.fail(m.id, error));
        break;
      case 'taken':
        f.untaken--;
        for (const w of f.takenWaiters.splice(0)) w();
        break;
      case 'done':
        void f.written.then(() => (f.error ? f.done?.reject(f.error) : f.done?.resolve()));
        break;
      case 'error':
        this.fail(m.id, new SyncError(`Parquet encoding failed: ${m.message}`, { code: ERROR_CODES.PARQUET_ENCODER_FAILED, retryable: true }));
        break;
    }
  }

  /** Opens a file on the least busy thread (starting threads up to `threads` as needed). */
  open(opts: EncodeOptions, onBytes: (bytes: Uint8Array) => Promise<void>): RemoteEncodeFile {
    let entry = this.workers.reduce<{ worker: Worker; files: number; wasmBytes: number } | undefined>((best, w) => (!best || w.files < best.files ? w : best), undefined);
    if (!entry || (entry.files > 0 && this.workers.length < this.threads)) {
      entry = this.start();
      this.workers.push(entry);
    }
    const chosen = entry;
    if (chosen.files++ === 0) chosen.worker.ref();
    const id = this.nextId++;
    const file: OpenFile = { onBytes, written: Promise.resolve(), untaken: 0, takenWaiters: [], worker: chosen.worker };
    this.files.set(id, file);
    const send = (m: EncoderRequest, transfer: ArrayBuffer[] = []) => chosen.worker.postMessage(m, transfer);
    send({ type: 'open', id, opts });
    const release = () => {
      this.files.delete(id);
      if (--chosen.files === 0) chosen.worker.unref();
    };
    return {
      push: async (ipc) => {
        if (file.error) throw file.error;
        file.untaken++;
        const whole = ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength;
        send({ type: 'push', id, ipc }, whole ? [ipc.buffer as ArrayBuffer] : []);
        // Backpressure: one row group may wait for the encoder while the next one is built.
        while (file.untaken > 1 && !file.error) await new Promise<void>((resolve) => file.takenWaiters.push(resolve));
        // And the encoded bytes are written before more are made.
        await file.written;
        if (file.error) throw file.error;
      },
      finish: async () => {
        try {
          if (file.error) throw file.error;
          const done = new Promise<void>((resolve, reject) => (file.done = { resolve, reject }));
          send({ type: 'finish', id });
          await done;
        } finally {
          release();
        }
      },
    };
  }

  /** Stops the threads (files still open fail). */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}
