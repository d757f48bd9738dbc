import { stackSettings, type StackSettings } from './stack';

/**
 * The Iceberg REST catalogs the tests run against: Nessie, and Apache Iceberg's reference catalog,
 * which `npm test` brings up beside it (`stack up --catalog both`). Each has the stack's settings
 * with its own ICEBERG_CATALOG_URI, for workers, our catalog client and the independent readers.
 */
export interface CatalogTarget {
  name: 'nessie' | 'rest';
  settings: StackSettings;
  /** Whether table metadata keeps earlier snapshots (the reference catalog does; Nessie keeps the current one). */
  keepsHistory: boolean;
}

export function catalogTargets(): CatalogTarget[] {
  const settings = stackSettings();
  if (!settings.STACK_REST_CATALOG_URI) {
    throw new Error('STACK_REST_CATALOG_URI is not set: these tests need both catalogs (npm run stack -- up --catalog both), which npm test starts.');
  }
  return [
    { name: 'nessie', settings, keepsHistory: false },
    { name: 'rest', settings: { ...settings, ICEBERG_CATALOG_URI: settings.STACK_REST_CATALOG_URI }, keepsHistory: true },
  ];
}
