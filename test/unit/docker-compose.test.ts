import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { versions, type Tools } from '../../scripts/stack/install';
import { bucket, catalogChoices, connectionSettings, restWarehouse, serverSpecs, stackPorts, warehouse } from '../../scripts/stack/servers';
import { unknownSettingProblems } from '../../src/settings/settings';
import { warehouseBody } from '../../scripts/stack/lakekeeper';

// Docker cannot run on the machines this project is built on, so the compose file is checked
// statically: it parses, and its names and ports agree with the local stack and the README.
const root = path.resolve(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  'x-sf-iceberg-settings': Record<string, string>;
  services: Record<string, { image?: string; ports?: string[]; environment?: Record<string, string>; entrypoint?: string[] | string; command?: string[]; profiles?: string[] }>;
};
const settings = compose['x-sf-iceberg-settings'];
const published = Object.values(compose.services)
  .flatMap((s) => s.ports ?? [])
  .map((p) => Number(p.split(':').at(-1)));

describe('docker-compose.yml', () => {
  it('has the services of the stack', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['temporal', 'minio', 'minio-setup', 'postgres', 'lakekeeper-migrate', 'lakekeeper', 'lakekeeper-setup']));
  });

  it('offers the same settings, by name, as the local stack writes', () => {
    const local = connectionSettings(stackPorts({}), { accessKeyId: 'x', secretAccessKey: 'y' }, {});
    expect(Object.keys(settings).sort()).toEqual(Object.keys(local).sort());
    expect(settings.ICEBERG_WAREHOUSE).toBe(warehouse);
    expect(settings.S3_BUCKET).toBe(bucket);
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'S3_ENDPOINT', 'S3_REGION', 'S3_PATH_STYLE', 'TEMPORAL_NAMESPACE']) {
      expect(settings[key], key).toBe(local[key]);
    }
    // Same host and port; only the catalog's path differs (Nessie /iceberg, Lakekeeper /catalog).
    expect(new URL(settings.ICEBERG_CATALOG_URI!).host).toBe(new URL(local.ICEBERG_CATALOG_URI!).host);
  });

  it('publishes the local stack default ports on 127.0.0.1', () => {
    const ports = stackPorts({});
    for (const port of [ports.temporal, ports.temporalUi, ports.minio, ports.minioConsole, ports.nessie, ports.restCatalog]) {
      expect(published).toContain(port);
    }
    for (const service of Object.values(compose.services)) {
      for (const p of service.ports ?? []) expect(p.startsWith('127.0.0.1:')).toBe(true);
    }
  });

  it('uses the settings credentials for MinIO and creates the warehouse bucket and catalog warehouse', () => {
    const minioEnv = compose.services.minio!.environment!;
    expect(minioEnv.MINIO_ROOT_USER).toBe(`\${S3_ACCESS_KEY_ID:-${settings.S3_ACCESS_KEY_ID}}`);
    expect(minioEnv.MINIO_ROOT_PASSWORD).toBe(`\${S3_SECRET_ACCESS_KEY:-${settings.S3_SECRET_ACCESS_KEY}}`);
    expect(JSON.stringify(compose.services['minio-setup']!.entrypoint)).toContain(`local/${bucket}`);
    // Lakekeeper's warehouse: the local stack's JSON (one file for both), its placeholders filled in.
    const service = compose.services['lakekeeper-setup'] as { entrypoint?: string[]; volumes?: string[] };
    expect(service.volumes).toContain('./scripts/stack/lakekeeper-warehouse.json:/setup/warehouse.json:ro');
    const setup = ([] as string[]).concat(service.entrypoint ?? []).join('\n');
    for (const placeholder of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) expect(setup).toContain(`s|{{${placeholder}}}|`);
    expect(setup).toContain('--data @/tmp/warehouse.json');
    const body = warehouseBody({ endpoint: 'http://localhost:9000', accessKeyId: 'k', secretAccessKey: 's' }) as {
      'warehouse-name': string;
      'storage-profile': Record<string, unknown>;
    };
    expect(body['warehouse-name']).toBe(warehouse);
    expect(body['storage-profile']).toMatchObject({ bucket, endpoint: 'http://localhost:9000', 'sts-enabled': true, 'remote-signing-enabled': true, flavor: 'minio' });
  });

  it("runs Apache Iceberg's reference REST catalog of the same version and configuration as the local stack", () => {
    const service = compose.services['iceberg-rest']!;
    expect(service.image).toBe(`\${ICEBERG_REST_IMAGE:-apache/iceberg-rest-fixture:${versions.iceberg}}`);
    expect(service.profiles).toEqual(['rest-catalog']);
    const ports = stackPorts({});
    const creds = { accessKeyId: 'x', secretAccessKey: 'y' };
    const local = serverSpecs({ java: 'java', restCatalogClasspath: 'lib/*' } as Tools, ports, creds, 'rest').find((s) => s.name === 'rest-catalog')!.env;
    const env = service.environment!;
    // REST_PORT is only the image's health check; the rest are the same catalog properties.
    expect(
      Object.keys(env)
        .filter((k) => k !== 'REST_PORT')
        .sort(),
    ).toEqual(Object.keys(local).sort());
    expect(env.REST_PORT).toBe(String(ports.restCatalog));
    for (const key of [
      'CATALOG_CATALOG__IMPL',
      'CATALOG_JDBC_USER',
      'CATALOG_JDBC_PASSWORD',
      'CATALOG_JDBC_STRICT__MODE',
      'CATALOG_REST_PORT',
      'CATALOG_WAREHOUSE',
      'CATALOG_IO__IMPL',
      'CATALOG_S3_PATH__STYLE__ACCESS',
      'CATALOG_CLIENT_REGION',
    ]) {
      expect(env[key], key).toBe(local[key]);
    }
    expect(env.CATALOG_WAREHOUSE).toBe(`s3://${bucket}/${restWarehouse}`);
    // MinIO, as the catalog sees it: another host name in compose, the same port.
    expect(new URL(env.CATALOG_S3_ENDPOINT!).port).toBe(new URL(local.CATALOG_S3_ENDPOINT!).port);
    expect(env.CATALOG_S3_ACCESS__KEY__ID).toBe(`\${S3_ACCESS_KEY_ID:-${settings.S3_ACCESS_KEY_ID}}`);
    expect(env.CATALOG_S3_SECRET__ACCESS__KEY).toBe(`\${S3_SECRET_ACCESS_KEY:-${settings.S3_SECRET_ACCESS_KEY}}`);
    // What `up --catalog rest` writes for the product: the same address compose publishes.
    expect(connectionSettings(ports, creds, {}, 'rest').ICEBERG_CATALOG_URI).toBe(`http://127.0.0.1:${ports.restCatalog}`);
  });

  it('writes, for every catalog choice, only settings the product knows (it refuses unknown ICEBERG_ names)', () => {
    for (const choice of catalogChoices) {
      const written = connectionSettings(stackPorts({}), { accessKeyId: 'x', secretAccessKey: 'y' }, { python: 'python' }, choice);
      expect(unknownSettingProblems(written), choice).toEqual([]);
    }
  });

  it('is described in the README with the same setting names', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain('docker compose up');
    for (const key of Object.keys(settings)) expect(readme, key).toContain(key);
  });
});
