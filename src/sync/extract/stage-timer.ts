/** What an extraction attempt's time went to, in seconds (see ExtractResult.timings). */
export interface StageTimings {
  readS: number;
  readCpuS: number;
  buildS: number;
  encodeS: number;
  uploadS: number;
}

/**
 * Times the extraction's stages: waiting for Salesforce pages (and this process's CPU meanwhile,
 * spent parsing and normalising them) here; building, encoding and uploading as the data file
 * writer counts them.
 */
export class StageTimer {
  private readMs = 0;
  private readCpuUs = 0;

  constructor(
    private readonly clock: { now(): number; cpuUsage(since?: NodeJS.CpuUsage): NodeJS.CpuUsage } = { now: () => performance.now(), cpuUsage: (since) => process.cpuUsage(since) },
  ) {}

  /** Runs `read` (a page fetch) and counts its time as reading. */
  async read<T>(read: () => Promise<T>): Promise<T> {
    const t = this.clock.now();
    const cpu = this.clock.cpuUsage();
    try {
      return await read();
    } finally {
      this.readMs += this.clock.now() - t;
      const used = this.clock.cpuUsage(cpu);
      this.readCpuUs += used.user + used.system;
    }
  }

  /** All stages, in seconds to the millisecond. */
  timings(writer: { buildMs: number; encodeMs: number; uploadMs: number }): StageTimings {
    const seconds = (ms: number) => Math.round(ms) / 1000;
    return {
      readS: seconds(this.readMs),
      readCpuS: seconds(this.readCpuUs / 1000),
      buildS: seconds(writer.buildMs),
      encodeS: seconds(writer.encodeMs),
      uploadS: seconds(writer.uploadMs),
    };
  }
}
