/*
 * The one workflow id of a table's maintenance, shared by the maintenance workflows, the scripts
 * that start them and the sync activity that waits for one. Pure: workflow code imports it.
 */

/** A second start while one runs is refused (or joins it): a table is never maintained twice at once. */
export function maintainTableId(namespace: string, table: string): string {
  return `maintain/${namespace}.${table}`;
}
