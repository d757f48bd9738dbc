import { parentPort } from 'node:worker_threads';
import * as pw from 'parquet-wasm/node';
import { ParquetEncodeStream, type EncodeOptions } from './encode-stream';

/*
 * An encoder thread (see encoder-pool.ts): encodes the Parquet files it is given, several at once,
 * each a stream of row groups, and posts each file's bytes back as they come.
 */

export type EncoderRequest = { type: 'open'; id: number; opts: EncodeOptions } | { type: 'push'; id: number; ipc: Uint8Array } | { type: 'finish'; id: number };
export type EncoderReply =
  | { type: 'bytes'; id: number; bytes: Uint8Array }
  | { type: 'taken'; id: number; wasmBytes: number }
  | { type: 'done'; id: number; wasmBytes: number }
  | { type: 'error'; id: number; message: string };

/** This thread's WebAssembly linear memory: it only grows, so it is the thread's high-water mark. */
const wasmBytes = () => pw.wasmMemory().buffer.byteLength;

const port = parentPort;
if (port) {
  const files = new Map<number, ParquetEncodeStream>();
  const reply = (m: EncoderReply) => port.postMessage(m);
  const fail = (id: number, error: unknown) => {
    files.delete(id);
    reply({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
  };
  port.on('message', (m: EncoderRequest) => {
    if (m.type === 'open') {
      const stream = new ParquetEncodeStream(m.opts, (bytes) => reply({ type: 'bytes', id: m.id, bytes }));
      stream.done.catch((error: unknown) => fail(m.id, error));
      files.set(m.id, stream);
      return;
    }
    const stream = files.get(m.id);
    if (!stream) return;
    if (m.type === 'push') {
      stream.push(m.ipc).then(
        () => reply({ type: 'taken', id: m.id, wasmBytes: wasmBytes() }),
        (error: unknown) => fail(m.id, error),
      );
    } else {
      stream.finish().then(
        () => {
          files.delete(m.id);
          reply({ type: 'done', id: m.id, wasmBytes: wasmBytes() });
        },
        (error: unknown) => fail(m.id, error),
      );
    }
  });
}
