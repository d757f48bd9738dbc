/**
 * The import graph points one way: each layer imports only layers below it (`npm run lint`, run by
 * `npm test`, fails otherwise). From the bottom:
 *
 *   base          src/*.ts (net, edit-distance, table-contract: the keys the product writes into tables),
 *                 src/config/ (how settings are declared and loaded)
 *   storage       src/storage/        object stores (S3, local files)
 *   iceberg spec  src/iceberg/spec/   Iceberg's types, data-file description and bounds: pure, no I/O
 *   parquet       src/parquet/        Arrow column builders and Parquet data files (Iceberg field ids and bounds)
 *   iceberg       src/iceberg/        catalog client, manifests, snapshot producers, tables, scan: knows no Salesforce
 *   maintenance   src/maintenance/    compaction, snapshot expiry, orphan removal of a table: knows no Salesforce
 *   salesforce    src/salesforce/     client, auth, describe, readers: knows no Iceberg
 *   mapping       src/mapping/        Salesforce describe → Iceberg schema: the one place both meet
 *   simulator     src/salesforce-sim/ the Salesforce stand-in (demo, npm run sim, bench, tests)
 *   destinations  src/destinations/   Iceberg and DuckDB behind one interface
 *   sync          src/sync/           prepare, extract, commit, cleanup of one object
 *   checks        src/preflight/, src/settings/ (every area's settings together)
 *   activities → workflows → worker → scripts; test/ on top.
 */
const layers = [
  ['base', '^src/[^/]+\\.ts$|^src/config/'],
  ['storage', '^src/storage/'],
  ['iceberg-spec', '^src/iceberg/spec/'],
  ['parquet', '^src/parquet/'],
  ['iceberg', '^src/iceberg/(?!spec/)'],
  ['maintenance', '^src/maintenance/'],
  ['salesforce', '^src/salesforce/'],
  ['mapping', '^src/mapping/'],
  ['simulator', '^src/salesforce-sim/'],
  ['destinations', '^src/destinations/'],
  ['sync', '^src/sync/'],
  ['checks', '^src/preflight/|^src/settings/'],
  ['activities', '^activities/'],
  ['workflows', '^workflows/'],
  ['worker', '^worker/'],
  ['scripts', '^scripts/'],
];

// Side by side, not one above the other: neither may import the other.
const siblings = [
  ['iceberg', 'salesforce'],
  ['maintenance', 'salesforce'],
  ['simulator', 'destinations'],
  ['simulator', 'sync'],
];

const pathOf = (name) => layers.find(([n]) => n === name)[1];
const upward = layers.map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  comment: `${name} may import only the layers below it`,
  severity: 'error',
  from: { path },
  to: { path: [...layers.slice(i + 1).map(([, p]) => p), '^test/'] },
}));
const across = siblings.flatMap(([a, b]) => [
  { name: `${a}-imports-${b}`, comment: `${a} and ${b} stand side by side`, severity: 'error', from: { path: pathOf(a) }, to: { path: pathOf(b) } },
  { name: `${b}-imports-${a}`, comment: `${a} and ${b} stand side by side`, severity: 'error', from: { path: pathOf(b) }, to: { path: pathOf(a) } },
]);

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'modules that import each other cannot be changed one at a time', severity: 'error', from: {}, to: { circular: true } },
    ...upward,
    ...across,
    {
      name: 'iceberg-and-maintenance-name-no-salesforce-key',
      comment: "the iceberg and maintenance layers know no Salesforce: they are handed the table contract's keys (src/table-contract.ts), never import them",
      severity: 'error',
      from: { path: '^src/(iceberg|maintenance)/' },
      to: { path: '^src/table-contract\\.ts$' },
    },
    {
      name: 'module-outside-the-layers',
      comment: 'every folder of src/ is one of the layers above: a new one is placed in them first',
      severity: 'error',
      from: { path: '^src/', pathNot: layers.map(([, p]) => p) },
      to: { path: '^(src|activities|workflows|worker|scripts|test)/' },
    },
    {
      name: 'workflow-code-is-deterministic',
      comment: "workflow code runs in Temporal's sandbox: it may import only pure modules (and types)",
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        path: '^(src|activities)/',
        pathNot:
          '^src/sync/objects\\.ts$|^src/iceberg/spec/layout-syntax\\.ts$|^src/edit-distance\\.ts$|^src/table-contract\\.ts$|^src/maintenance/workflow-ids\\.ts$|^activities/(signals|search-attributes)\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
