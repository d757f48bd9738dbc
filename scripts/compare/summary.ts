/** One run of one pipeline in `npm run bench -- compare`. */
export interface CompareRun {
  rows: number;
  /** Seconds from the pipeline's start (login, describe) to its last commit; process start-up excluded. */
  run_s: number;
  rows_per_s: number;
  peak_rss_mb: number;
  /** Snapshots the run committed to its table. */
  snapshots: number;
  data_files: number;
}

export interface ComparePipeline {
  name: string;
  rows: number;
  rows_per_s: number;
  peak_rss_mb: number;
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
  const m = (k: keyof CompareRun) => median(runs.map((r) => r[k])) ?? 0;
  return { name, rows: m('rows'), rows_per_s: Math.round(m('rows_per_s')), peak_rss_mb: Math.round(m('peak_rss_mb')), snapshots: m('snapshots'), runs };
}

/** `1000` as `1,000`, for the pipeline names. */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}
