/**
 * All settings of the product, one schema per area, each declared next to the code it configures:
 *
 *   salesforce   src/salesforce/settings.ts (credentials, API version, budget), read-settings.ts (how objects are read)
 *   iceberg      src/iceberg/settings.ts (catalog and S3)
 *   temporal     src/config/temporal-settings.ts
 *   worker       src/config/worker-settings.ts
 *   sync         src/sync/settings.ts
 *   parquet      src/parquet/settings.ts
 *   duckdb       src/destinations/duckdb-settings.ts
 *   maintenance  src/maintenance/settings.ts
 *   preflight    src/preflight/settings.ts
 *
 * `settingsProblems` is what the worker and `npm run check` report before anything connects.
 */
import { salesforceArea, salesforceSettingsProblems } from '../salesforce/settings';
import { salesforceReadArea } from '../salesforce/read-settings';
import type { SettingDoc } from '../config/define';
import { icebergArea, icebergSettingsProblems } from '../iceberg/settings';
import { syncArea } from '../sync/settings';
import { workerArea } from '../config/worker-settings';
import { parquetArea } from '../parquet/settings';
import { duckdbArea, duckdbMode } from '../destinations/duckdb-settings';
import { maintenanceArea } from '../maintenance/settings';
import { preflightArea } from '../preflight/settings';
import { CLI_LEGACY_TLS_NAMES, TEMPORAL_GRPC_META_PREFIX, TEMPORAL_TOOL_NAMES, temporalArea, temporalSettingsProblems } from '../config/temporal-settings';
import { editDistance } from '../edit-distance';
import { SETTING_ALIASES, aliasConflicts, isSecretReference, unresolvedSecretReferences } from '../config/aliases';
import { syncDefaultsArea, syncDefaultsProblems } from '../sync/sync-defaults';

/** The areas whose variables have no rules between them beyond each variable's own. */
const PLAIN_AREAS = [salesforceReadArea, workerArea, syncArea, parquetArea, duckdbArea, maintenanceArea, preflightArea];

/** Every setting the product reads, by area: the env-var reference (`npm run env`, the README's settings reference). */
export const SETTINGS: SettingDoc[] = [
  salesforceArea,
  salesforceReadArea,
  icebergArea,
  temporalArea,
  workerArea,
  syncArea,
  parquetArea,
  duckdbArea,
  maintenanceArea,
  preflightArea,
  syncDefaultsArea,
].flatMap((area) => area.docs);

/** Prefixes that belong to this product alone: a name under them that is not a setting is a typo. */
export const OWN_PREFIXES = ['SOURCES__SALESFORCE__', 'ICEBERG_', 'S3_'];

const words = (name: string) => name.toUpperCase().split(/_+/).filter(Boolean);

/**
 * The known setting a misspelt name most likely meant: one a few edits away (ICEBERG_CATALOG_UIR),
 * or one whose words include all of the name's (S3_SECRET_KEY: S3_SECRET_ACCESS_KEY).
 */
export function closestSetting(name: string): string | undefined {
  let best: { name: string; d: number; all: boolean } | undefined;
  const mine = words(name);
  for (const s of SETTINGS) {
    const d = editDistance(name.toUpperCase(), s.name);
    const theirs = words(s.name);
    // A setting with every word of the name beats a nearer spelling (TEMPORAL_TLS_CA_CERT_PATH).
    const all = mine.every((w) => theirs.includes(w));
    const close = d <= Math.max(2, Math.floor(s.name.length / 5)) || all || theirs.every((w) => mine.includes(w));
    if (close && (!best || (all && !best.all) || (all === best.all && d < best.d))) best = { name: s.name, d, all };
  }
  return best?.name;
}

/**
 * TEMPORAL_ is shared with Temporal's own tools (the CLI, codec servers, images): a TEMPORAL_ name
 * that is none of ours or theirs is a typo only when it is close to one of ours (TEMPORAL_ADRESS,
 * TEMPORAL_TLS_CA_CERT_PATH).
 */
function temporalTypo(name: string, known: Set<string>): boolean {
  if (!name.startsWith('TEMPORAL_') || known.has(name) || TEMPORAL_TOOL_NAMES.includes(name) || name in CLI_LEGACY_TLS_NAMES || name.startsWith(TEMPORAL_GRPC_META_PREFIX))
    return false;
  const meant = closestSetting(name);
  return meant !== undefined && meant.startsWith('TEMPORAL_');
}

/** Names under the product's prefixes that no setting has: probable typos (the setting meant is not applied). */
export function unknownSettingProblems(env: Record<string, string | undefined>): string[] {
  const known = new Set([...SETTINGS.map((s) => s.name), ...Object.keys(SETTING_ALIASES)]);
  return Object.keys(env)
    .filter((name) => ((OWN_PREFIXES.some((p) => name.startsWith(p)) && !known.has(name)) || temporalTypo(name, known)) && env[name] !== undefined)
    .sort()
    .map((name) => {
      const meant = closestSetting(name);
      return `${name} is not a setting (a typo${meant ? ` of ${meant}` : ''}?): it does nothing. ${meant ? `Rename it to ${meant}` : 'Fix its name (npm run env lists every setting)'} or unset it.`;
    });
}

/** Every settings problem, by area, naming variables and never a secret's value; empty when all is well. */
export function settingsProblems(env: Record<string, string | undefined>): string[] {
  const names = [...SETTINGS.map((s) => s.name), ...Object.keys(SETTING_ALIASES)];
  const references = unresolvedSecretReferences(env, names);
  // A variable holding an unresolved reference is named once, by that problem (not by its format's).
  const referenced = names.filter((n) => isSecretReference(env[n])).flatMap((n) => [n, SETTING_ALIASES[n] ?? n]);
  const byArea = [
    ...salesforceSettingsProblems(env),
    // DuckDB mode needs no catalog or S3.
    ...(duckdbMode(env) ? [] : icebergSettingsProblems(env)),
    ...temporalSettingsProblems(env),
    ...PLAIN_AREAS.flatMap((area) => area.problems(env)),
    ...syncDefaultsProblems(env),
  ].filter((p) => !referenced.some((n) => p.startsWith(`${n}:`)));
  return [...references, ...aliasConflicts(env), ...byArea, ...unknownSettingProblems(env)];
}
