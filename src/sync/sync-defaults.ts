/**
 * What a sync does when its input does not say: the worker's defaults, from the original
 * pipeline's settings (ICEBERG_NAMESPACE, SALESFORCE_RESOURCES, WRITE_DISPOSITION) so that its
 * `.env.local` works unchanged, and BATCH_SIZE, read and explained. salesforceSync asks its worker
 * for them (a local activity: the answer is recorded in the history, so replays do not depend on
 * the worker's settings).
 */
import { z } from 'zod';
import { integerSetting, parseArea, settingsArea } from '../config/define';
import { DEFAULT_TARGET_FILE_BYTES } from '../parquet/writer';
import { DEFAULT_NAMESPACE, DEFAULT_OBJECTS } from './objects';
import { syncArea } from './settings';
import { ERROR_CODES, SyncError } from '../errors';

/** A Salesforce object name as the workflow input takes it. */
const OBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * The Salesforce object of one of the original pipeline's resource names: dlt's Salesforce source
 * names its resources in snake_case (`opportunity_contact_role`, `product_2`, `sf_user`); a name
 * that is already a Salesforce object name (`Account`, `My_Object__c`) is kept.
 */
export function objectOfResource(resource: string): string {
  const name = resource.trim();
  if (!/^[a-z0-9_]+$/.test(name) || name.includes('__')) return name;
  if (name === 'sf_user') return 'User';
  return name
    .split('_')
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

const resourceList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0 && list.every((r) => OBJECT_NAME.test(objectOfResource(r))), {
    message: 'must be a comma-separated list of Salesforce objects, as resource names (account,opportunity_contact_role) or object names (Account)',
  })
  .transform((list) => [...new Set(list.map(objectOfResource))]);

/** The original pipeline's settings of what a sync loads and how. */
export const syncDefaultsArea = settingsArea('sync', {
  SALESFORCE_RESOURCES: {
    schema: resourceList.optional(),
    description:
      "the objects of a sync whose input names none (temporal workflow start, npm run sync, schedules): the original pipeline's resource names (account,opportunity_contact_role) or Salesforce object names",
    note: DEFAULT_OBJECTS.join(','),
  },
  WRITE_DISPOSITION: {
    schema: z.enum(['default', 'force_replace'], { message: 'must be default or force_replace' }),
    description:
      "force_replace: a sync whose input sets no read mode reads every row and replaces each object's table (the original pipeline's); default: each object's own mode, incremental",
    default: 'default',
  },
  BATCH_SIZE: {
    schema: integerSetting(1).optional(),
    description:
      "the original pipeline's rows per Iceberg append; read but not applied: each object's sync commits one snapshot, whatever its rows, from Parquet files of up to 128 MB (the worker says so when it is set)",
  },
});

export type SyncDefaultsSettings = z.output<typeof syncDefaultsArea.schema>;

/** What salesforceSync takes from its worker for what its input does not say. */
export interface SyncDefaults {
  /** The Iceberg namespace (SYNC_NAMESPACE, or the original ICEBERG_NAMESPACE). */
  namespace: string;
  /** The objects (SALESFORCE_RESOURCES); undefined: the product's default four. */
  objects?: string[];
  /** WRITE_DISPOSITION=force_replace: read everything and replace every table. */
  forceReplace?: boolean;
}

export function syncDefaultsProblems(env: Record<string, string | undefined>): string[] {
  return parseArea(syncDefaultsArea, env).problems;
}

/** The worker's sync defaults from its settings (valid settings: the worker checked them at start). */
export function syncDefaults(env: Record<string, string | undefined>): SyncDefaults {
  const parsed = parseArea(syncDefaultsArea, env);
  if (!parsed.ok) throw new SyncError(`Invalid sync defaults:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
  return {
    namespace: defaultNamespace(env),
    ...(parsed.value.SALESFORCE_RESOURCES ? { objects: parsed.value.SALESFORCE_RESOURCES } : {}),
    ...(parsed.value.WRITE_DISPOSITION === 'force_replace' ? { forceReplace: true } : {}),
  };
}

/** SYNC_NAMESPACE (or its original name ICEBERG_NAMESPACE), else salesforce: the namespace of commands not told one. */
export function defaultNamespace(env: Record<string, string | undefined>): string {
  return syncArea.problems(env).length === 0 ? syncArea.parse(env).SYNC_NAMESPACE : DEFAULT_NAMESPACE;
}

/** The line the worker logs at start when BATCH_SIZE is set (the original pipeline's batch size). */
export function batchSizeNote(env: Record<string, string | undefined>): string | undefined {
  const parsed = parseArea(syncDefaultsArea, env);
  const size = parsed.ok ? parsed.value.BATCH_SIZE : undefined;
  if (size === undefined) return undefined;
  return `BATCH_SIZE=${size} (the original pipeline's rows per Iceberg append) is not applied: each object's sync commits one snapshot, from Parquet files of up to ${DEFAULT_TARGET_FILE_BYTES / 1024 / 1024} MB, however many rows it reads.`;
}
