import { catalogOptions, parseIcebergSettings, s3Settings } from './settings';
import { S3ObjectStore, s3SettingsFor } from '../storage/s3';
import { RemoteS3Signer } from '../storage/remote-signer';
import { RestCatalog, TABLE_IDENTIFIER, type LoadTableResult } from './catalog';
import { VendedCredentials, loadedStorageConfig, storageAccessMode } from './credentials';
import type { ObjectStore } from '../storage/object-store';

/**
 * A catalog client and a per-table object store factory from validated settings. What a table's
 * store authenticates with is what the catalog's answer for it says: vended credentials (renewed
 * before they expire, one provider per table, since they are scoped to its location), remote
 * signing through the catalog, else the static keys of the settings.
 */
export function connectIceberg(env: Record<string, string | undefined>): {
  catalog: RestCatalog;
  storeFor: (loaded: LoadTableResult) => ObjectStore;
} {
  const catalog = new RestCatalog(catalogOptions(parseIcebergSettings(env)));
  return { catalog, storeFor: tableStores(catalog, env) };
}

/** The per-table store factory of `connectIceberg` for a catalog client made elsewhere (the preflight's). */
export function tableStores(catalog: RestCatalog, env: Record<string, string | undefined>): (loaded: LoadTableResult) => ObjectStore {
  const settings = parseIcebergSettings(env);
  const base = s3Settings(settings);
  const options = catalogOptions(settings);
  const stores = new Map<string, S3ObjectStore>();
  const vended = new Map<string, VendedCredentials>();
  const storeFor = (loaded: LoadTableResult): ObjectStore => {
    const config = loadedStorageConfig(catalog.properties, loaded);
    const resolved = s3SettingsFor(base, config);
    const mode = storageAccessMode(config);
    const table = loaded[TABLE_IDENTIFIER];
    if (mode === 'static' || !table) {
      const key = JSON.stringify(resolved);
      let store = stores.get(key);
      if (!store) stores.set(key, (store = new S3ObjectStore(resolved)));
      return store;
    }
    const location = loaded.metadata.location;
    const key = `${mode} ${JSON.stringify([...table.namespace, table.name])} ${location}`;
    if (mode === 'vended') {
      // A table loaded again keeps its store; the answer's newer credentials replace the old ones.
      const known = vended.get(key);
      if (known) {
        known.update(config);
        return stores.get(key)!;
      }
      const credentials = new VendedCredentials(catalog, { ...table, location }, config, options.refreshMarginMs ?? 300_000);
      vended.set(key, credentials);
      const store = new S3ObjectStore(
        { ...resolved, accessKeyId: undefined, secretAccessKey: undefined, sessionToken: undefined },
        { credentials: credentials.provider, renew: credentials.renew },
      );
      stores.set(key, store);
      return store;
    }
    // Remote signing: the signer endpoint the answer names (it may carry a table-scoped token).
    const signerKey = `${key} ${config['s3.signer.uri'] ?? ''} ${config['s3.signer.endpoint'] ?? ''}`;
    let store = stores.get(signerKey);
    if (!store) {
      const signer = new RemoteS3Signer({
        uri: config['s3.signer.uri'] ?? options.uri,
        endpoint: config['s3.signer.endpoint'],
        region: resolved.region ?? 'us-east-1',
        authorization: (forceRefresh) => catalog.authorizationHeader(forceRefresh),
        timeoutMs: options.timeoutMs,
      });
      stores.set(signerKey, (store = new S3ObjectStore(resolved, { signer })));
    }
    return store;
  };
  return storeFor;
}
