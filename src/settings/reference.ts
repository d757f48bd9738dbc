/**
 * Every setting the product reads: the env-var reference (`npm run env`) and the README's settings
 * reference (`npm run env -- settings --markdown`), both built from the settings' declarations.
 * Neither ever contains a value of the environment.
 */
import { SETTING_GROUPS, type SettingDoc, type SettingGroup } from '../config/define';
import { SETTINGS } from './settings';

export type { SettingDoc } from '../config/define';
export { SETTINGS } from './settings';

/** A value as it may be shown: secrets masked. */
export function shown(doc: SettingDoc, value: string | undefined): string {
  if (value === undefined || value === '') return '(not set)';
  return doc.secret ? `set (${value.length} characters, hidden)` : value;
}

/** The areas, in the reference's order, with what each configures. */
export function settingGroups(): { group: SettingGroup; configures: string }[] {
  return (Object.keys(SETTING_GROUPS) as SettingGroup[]).map((group) => ({ group, configures: SETTING_GROUPS[group] }));
}

/** The reference as the README's tables, one per area (a unit test keeps the README equal to it). */
export function settingsReferenceMarkdown(): string {
  const names = new Set(SETTINGS.map((s) => s.name));
  // The names of settings as code; the characters Markdown would read as table cells or HTML escaped.
  const cell = (text: string) => text.replace(/\b[A-Z][A-Z0-9]*(?:_+[A-Z0-9]+)+\b/g, (m) => (names.has(m) ? `\`${m}\`` : m)).replace(/[|<>]/g, (c) => `\\${c}`);
  const tables = settingGroups().map(({ group, configures }) => {
    const rows = SETTINGS.filter((s) => s.group === group).map((s) => {
      const meaning = `${cell(s.description)}${s.methods ? ` (auth: ${s.methods.join(', ')})` : ''}${s.secret ? ' (a secret: never shown)' : ''}`;
      const value = s.applied !== undefined ? `\`${s.applied}\`` : '';
      const fallback = s.note ? cell(s.note) : '';
      return `| \`${s.name}\` | ${meaning} | ${[value, s.applied !== undefined && fallback ? `(${fallback})` : fallback].filter(Boolean).join(' ')} |`;
    });
    return [`**${group}**: ${cell(configures)}`, '', '| setting | meaning | default |', '|---|---|---|', ...rows].join('\n');
  });
  return tables.join('\n\n');
}
