/**
 * How a worker process starts: package.json's `worker` script and the tests' and bench's
 * WorkerProcess use these (a unit test checks they agree). Measured on a 1M-row Account sync, one
 * worker: peak RSS about 470 → 310 MB, at the same speed.
 * - A young generation of 8 MB semi-spaces (V8's default grows to 16 MB). Measured with
 *   `npm run bench` (1M Account rows, back to back, 2026-12-08): with 2 MB semi-spaces the worker
 *   spent 23.3 CPU-s per million rows (21.7 at the pipeline's ceiling), with 8 MB 20.0 (15.3): most
 *   objects die young, and small semi-spaces scavenged so often that they promoted them to the old
 *   generation. Peak RSS 279 → 298 MB; 16 MB saved no more CPU and held 310 MB.
 * - glibc: at most two malloc arenas (every thread that allocates — Temporal's core, libuv's gzip,
 *   the encoder thread — otherwise gets its own, each keeping what it freed), and buffers of
 *   128 KB and more always mapped and unmapped (glibc otherwise raises that threshold after the
 *   first large free and keeps result pages and upload parts in an arena): about 40 MB.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
export const WORKER_PROCESS_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } as const;
