import { editDistance } from '../edit-distance';
import type { GlobalObject } from '../salesforce/describe';

/** An object a sync names that the org does not have (or cannot query), and why. */
export interface UnknownObject {
  object: string;
  error: string;
}

/**
 * Splits the objects a sync names by the org's object list (names compare case-insensitively):
 * those it has and can query, and the others, each with the closest names the org has. Checked
 * once, before any object's workflow starts, so a misspelt name costs one describe-global call,
 * not a child workflow that fails later.
 */
export function checkObjectNames(asked: readonly string[], org: readonly GlobalObject[]): { known: string[]; unknown: UnknownObject[] } {
  const byName = new Map(org.map((o) => [o.name.toLowerCase(), o]));
  const known: string[] = [];
  const unknown: UnknownObject[] = [];
  for (const object of asked) {
    const found = byName.get(object.toLowerCase());
    if (found?.queryable) known.push(object);
    else if (found) unknown.push({ object, error: `${object} cannot be queried in this org (describe global lists it as not queryable), so it was not synced` });
    else
      unknown.push({
        object,
        error: `Salesforce has no object named ${object}${closest(object, org)}: it was not synced (names are case-insensitive; custom objects end in __c). Check the object list of the sync.`,
      });
  }
  return { known, unknown };
}

/** " (did you mean X?)" for the org's names within a few edits of `name`, nearest first. */
function closest(name: string, org: readonly GlobalObject[]): string {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(lower.length / 4));
  const near = org
    .map((o) => ({ name: o.name, d: editDistance(o.name.toLowerCase(), lower) }))
    .filter((o) => o.d <= limit)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, 3)
    .map((o) => o.name);
  return near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
}
