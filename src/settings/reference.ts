/** Every setting the product reads: the env-var reference (`npm run env`), built from the settings schemas. */
import type { SettingDoc } from '../config/define';

export type { SettingDoc } from '../config/define';
export { SETTINGS } from './settings';

/** A value as it may be shown: secrets masked. */
export function shown(doc: SettingDoc, value: string | undefined): string {
  if (value === undefined || value === '') return '(not set)';
  return doc.secret ? `set (${value.length} characters, hidden)` : value;
}
