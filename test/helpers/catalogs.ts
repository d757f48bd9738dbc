import { stackSettings, type StackSettings } from './stack';

/**
 * The Iceberg REST catalogs the tests run against: Nessie, and Apache Iceberg's reference catalog,
 * which `npm test` brings up beside it (`stack up --catalog both`). Each has the stack's settings
 * with its own ICEBERG_CATALOG_URI, for workers, our catalog client and the independent readers.
 *
 * With `credentialModes`, also Nessie's two warehouses that give clients no S3 key: `vended`
 * (STS session credentials from MinIO, per table) and `signed` (Nessie signs each S3 request). Their
 * settings carry no S3 keys (empty values, so they also blank the stack's keys in an environment
 * they are laid over): the worker and the readers get only what the catalog vends.
 */
export interface CatalogTarget {
  name: 'nessie' | 'rest' | 'nessie-vended' | 'nessie-signed';
  /** How the test is named: the catalog, and for the no-keys warehouses how storage is reached. */
  title: string;
  settings: StackSettings;
  /** Settings laid over the stack's for this catalog (workers, readers): its URI, warehouse and bucket, blanked keys. */
  overrides: Record<string, string>;
  /** Whether table metadata keeps earlier snapshots (the reference catalog does; Nessie keeps the current one). */
  keepsHistory: boolean;
  /** How its tables' storage is reached. */
  credentials: 'static' | 'vended' | 'signed';
}

/** Nessie's warehouses (and buckets) that vend credentials or sign requests (scripts/stack/servers.ts). */
const modeWarehouses = { vended: 'vended', signed: 'signed' } as const;

export function catalogTargets(opts: { credentialModes?: boolean } = {}): CatalogTarget[] {
  const settings = stackSettings();
  if (!settings.STACK_REST_CATALOG_URI) {
    throw new Error('STACK_REST_CATALOG_URI is not set: these tests need both catalogs (npm run stack -- up --catalog both), which npm test starts.');
  }
  const nessieUri = settings.ICEBERG_CATALOG_URI;
  const targets: CatalogTarget[] = [
    { name: 'nessie', title: 'nessie', settings, overrides: { ICEBERG_CATALOG_URI: nessieUri }, keepsHistory: false, credentials: 'static' },
    {
      name: 'rest',
      title: 'rest',
      settings: { ...settings, ICEBERG_CATALOG_URI: settings.STACK_REST_CATALOG_URI },
      overrides: { ICEBERG_CATALOG_URI: settings.STACK_REST_CATALOG_URI },
      keepsHistory: true,
      credentials: 'static',
    },
  ];
  if (opts.credentialModes) {
    for (const mode of ['vended', 'signed'] as const) {
      const overrides = {
        ICEBERG_CATALOG_URI: nessieUri,
        ICEBERG_WAREHOUSE: modeWarehouses[mode],
        S3_BUCKET: modeWarehouses[mode],
        S3_ACCESS_KEY_ID: '',
        S3_SECRET_ACCESS_KEY: '',
      };
      targets.push({
        name: `nessie-${mode}`,
        title: `nessie with ${mode === 'vended' ? 'vended credentials' : 'remote signing'}`,
        settings: { ...settings, ...overrides },
        overrides,
        keepsHistory: false,
        credentials: mode,
      });
    }
  }
  return targets;
}
