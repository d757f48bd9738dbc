/** One run of one pipeline in `npm run bench -- compare`. */
export interface CompareRun {
  rows: number;
  /** Seconds from the pipeline's start (login, describe) to its last commit; process start-up excluded. */
  run_s: number;
  rows_per_s: number;
  peak_rss_mb: number;
  /** The pipeline's processes' user + system CPU over the run, per million rows (threads and child processes included). */
  cpu_s_per_million_rows: number | null;
  /** Snapshots the run committed to its table. */
  snapshots: number;
  data_files: number;
}

export interface ComparePipeline {
  name: string;
  rows: number;
  rows_per_s: number;
  peak_rss_mb: number;
  cpu_s_per_million_rows: number | null;
  snapshots: number;
  runs: CompareRun[];
}

/** The median (the mean of the middle two for an even count); null for no values. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A pipeline's line of the table: medians over its rounds (rows/s and peak RSS rounded), each round kept. */
export function summarize(name: string, runs: CompareRun[]): ComparePipeline {
  const m = (k: Exclude<keyof CompareRun, 'cpu_s_per_million_rows'>) => median(runs.map((r) => r[k])) ?? 0;
  const cpu = median(runs.flatMap((r) => (r.cpu_s_per_million_rows === null ? [] : [r.cpu_s_per_million_rows])));
  return {
    name,
    rows: m('rows'),
    rows_per_s: Math.round(m('rows_per_s')),
    peak_rss_mb: Math.round(m('peak_rss_mb')),
    cpu_s_per_million_rows: cpu === null ? null : Number(cpu.toFixed(2)),
    snapshots: m('snapshots'),
    runs,
  };
}

/** What a user pays per row: CPU seconds per million rows (null when unmeasured). */
export function perMillionRows(cpuSeconds: number | undefined | null, rows: number): number | null {
  return cpuSeconds === undefined || cpuSeconds === null || rows <= 0 ? null : Number(((cpuSeconds * 1e6) / rows).toFixed(2));
}

/** `1000` as `1,000`, for the pipeline names. */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}
