/** A server of the local stack: how it is started, checked and described (scripts/stack/servers.ts, lakekeeper.ts). */
export interface ServerSpec {
  name: 'temporal' | 'minio' | 'nessie' | 'rest-catalog' | 'postgres' | 'lakekeeper';
  title: string;
  ports: number[];
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Resolves when the server answers as it should; throws with the reason otherwise. */
  healthy: () => Promise<void>;
  /**
   * Work once the server is healthy (the warehouse bucket, Temporal's search attributes): after a
   * start and when it was already running (so a stack started by an older version gets it too);
   * idempotent.
   */
  afterStart?: () => Promise<void>;
  urls: string[];
}
