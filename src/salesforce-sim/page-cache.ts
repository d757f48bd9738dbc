import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BulkJob } from './types';

/** A results page as served: its CSV bytes and the headers that go with them. */
export interface CachedPage {
  csv: Buffer;
  records: number;
  /** The next page's locator, or 'null'. */
  locator: string;
}

/**
 * Bulk results pages rendered once and served from disk after that, for benchmarks of the
 * pipeline itself: rendering CSV on this machine's cores is what bounds an ordinary simulator, while
 * Salesforce serves pages from many machines. A page is keyed by what its bytes depend on — the
 * object, the fields, the rows of the job and the page's place and size — so a later job over the
 * same rows (another sync of an unchanged object) is served from the cache. It does not see changes
 * made to the org after a page was cached: turn it on for benchmarks, not for tests of changes.
 */
export class PageCache {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-pages-'));
  private readonly pages = new Map<string, { file: string; records: number; locator: string }>();
  private readonly fingerprints = new WeakMap<BulkJob, string>();
  hits = 0;
  bytes = 0;

  /** What a job's pages depend on: the object, the fields and the row numbers of its result. */
  private fingerprint(job: BulkJob): string {
    let f = this.fingerprints.get(job);
    if (!f) {
      const hash = crypto.createHash('sha1').update(`${job.operation}|${job.object}|${job.fields.map((x) => x.name).join(',')}|`);
      hash.update(new Uint8Array(Int32Array.from(job.numbers).buffer));
      f = hash.digest('hex');
      this.fingerprints.set(job, f);
    }
    return f;
  }

  private key(job: BulkJob, offset: number, maxRecords: number): string {
    return `${this.fingerprint(job)}:${offset}:${maxRecords}`;
  }

  async get(job: BulkJob, offset: number, maxRecords: number): Promise<CachedPage | undefined> {
    const page = this.pages.get(this.key(job, offset, maxRecords));
    if (!page) return undefined;
    this.hits++;
    return { csv: await fs.promises.readFile(page.file), records: page.records, locator: page.locator };
  }

  async put(job: BulkJob, offset: number, maxRecords: number, page: CachedPage): Promise<void> {
    const key = this.key(job, offset, maxRecords);
    const file = path.join(this.dir, `${crypto.createHash('sha1').update(key).digest('hex')}.csv`);
    await fs.promises.writeFile(file, page.csv);
    this.bytes += page.csv.length;
    this.pages.set(key, { file, records: page.records, locator: page.locator });
  }

  /** Removes the cached files. */
  clear(): void {
    this.pages.clear();
    this.bytes = 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
