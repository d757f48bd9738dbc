import { catalogOptions, parseIcebergSettings, s3Settings } from './settings';
import { S3ObjectStore, s3SettingsFor } from '../storage/s3';
import { RestCatalog, type LoadTableResult } from './catalog';
import type { ObjectStore } from '../storage/object-store';

/** A catalog client and a per-table object store factory from validated settings. */
export function connectIceberg(env: Record<string, string | undefined>): {
  catalog: RestCatalog;
  storeFor: (loaded: LoadTableResult) => ObjectStore;
} {
  const settings = parseIcebergSettings(env);
  const base = s3Settings(settings);
  const catalog = new RestCatalog(catalogOptions(settings));
  const stores = new Map<string, S3ObjectStore>();
  const storeFor = (loaded: LoadTableResult): ObjectStore => {
    // Vended credentials may be scoped to a table location (storage-credentials) or table-wide (config).
    const location = loaded.metadata.location;
    const scoped = loaded['storage-credentials']?.filter((c) => location.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
    const resolved = s3SettingsFor(base, { ...catalog.properties, ...loaded.config, ...scoped?.config });
    const key = JSON.stringify(resolved);
    let store = stores.get(key);
    if (!store) stores.set(key, (store = new S3ObjectStore(resolved)));
    return store;
  };
  return { catalog, storeFor };
}
