/** Settings of table maintenance (src/maintenance/): the worker's defaults, which a maintenance run's input may change. */
import type { z } from 'zod';
import { integerSetting, settingsArea } from '../config/define';
import type { MaintenanceSettings } from './index';

export const maintenanceArea = settingsArea('maintenance', {
  MAINTENANCE_TARGET_FILE_MB: {
    schema: integerSetting(1),
    description: 'table maintenance rewrites data files below 3/4 of this size, and files with position deletes, into files of about this size (MB, compressed)',
    default: '128',
  },
  MAINTENANCE_MAX_MANIFESTS: {
    schema: integerSetting(1),
    description: "table maintenance rewrites the current snapshot's manifests into one or two when it has more than this many",
    default: '8',
  },
  MAINTENANCE_KEEP_SNAPSHOTS: {
    schema: integerSetting(1),
    description: 'snapshot expiry keeps the last this many snapshots of each branch (catalogs that keep history in table metadata)',
    default: '10',
  },
  MAINTENANCE_KEEP_SNAPSHOT_HOURS: { schema: integerSetting(0), description: 'snapshot expiry keeps every snapshot younger than this many hours', default: '120' },
  MAINTENANCE_ORPHAN_HOURS: {
    schema: integerSetting(1),
    description: "orphan removal deletes unreferenced files under a table's location only when they are older than this many hours (an in-flight sync's files are younger)",
    default: '72',
  },
});

export type MaintenanceEnvSettings = z.output<typeof maintenanceArea.schema>;

/** The worker's maintenance settings from its environment; throws listing every problem. */
export function maintenanceSettings(env: Record<string, string | undefined>): MaintenanceSettings {
  const s = maintenanceArea.parse(env);
  return {
    targetFileBytes: s.MAINTENANCE_TARGET_FILE_MB * 1024 * 1024,
    maxManifests: s.MAINTENANCE_MAX_MANIFESTS,
    keepSnapshots: s.MAINTENANCE_KEEP_SNAPSHOTS,
    keepSnapshotAgeMs: s.MAINTENANCE_KEEP_SNAPSHOT_HOURS * 3_600_000,
    orphanAgeMs: s.MAINTENANCE_ORPHAN_HOURS * 3_600_000,
  };
}
