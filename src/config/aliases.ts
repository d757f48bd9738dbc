/**
 * The original pipeline's (dlt's Salesforce source + a PyIceberg destination) names of settings
 * this product names otherwise: its `.env.local` works unchanged. An alias is read when its
 * setting is not set in the same place (the process environment, `.env.local`, `.env`,
 * `.stack/stack.env`), so a user's ICEBERG_CATALOG_URL wins over the local stack's
 * ICEBERG_CATALOG_URI as any user setting does.
 */
export const SETTING_ALIASES: Readonly<Record<string, string>> = {
  ICEBERG_CATALOG_URL: 'ICEBERG_CATALOG_URI',
  ICEBERG_NAMESPACE: 'SYNC_NAMESPACE',
};

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== '';

/** A 1Password secret reference (`op://vault/item/field`), which `op run` replaces by the secret. */
export const isSecretReference = (value: string | undefined) => /^\s*op:\/\//.test(value ?? '');

/** The aliases of a setting (for the reference). */
export function aliasesOf(name: string): string[] {
  return Object.keys(SETTING_ALIASES).filter((alias) => SETTING_ALIASES[alias] === name);
}

/**
 * `env` with each alias's value under its setting's name where that is not set. An alias whose
 * setting is set too stays (settingsProblems names the two when their values differ); one that
 * was read is dropped, so every later reader sees only the setting's name.
 */
export function withSettingNames<T extends Record<string, string | undefined>>(env: T): T {
  let out: Record<string, string | undefined> | undefined;
  for (const [alias, name] of Object.entries(SETTING_ALIASES)) {
    // An unresolved 1Password reference stays under the name it was given, which its problem names.
    if (!isSet(env[alias]) || isSet(env[name]) || isSecretReference(env[alias])) continue;
    out ??= { ...env };
    out[name] = env[alias];
    delete out[alias];
  }
  return (out ?? env) as T;
}

/** An alias and its setting both set, to different values: which one applies would be a guess. */
export function aliasConflicts(env: Record<string, string | undefined>): string[] {
  return Object.entries(SETTING_ALIASES)
    .filter(([alias, name]) => isSet(env[alias]) && isSet(env[name]) && env[alias]!.trim() !== env[name]!.trim())
    .map(
      ([alias, name]) =>
        `${alias} (the original pipeline's name of ${name}) and ${name} are both set, to different values: keep one of them (the process environment wins over .env.local, .env and .stack/stack.env)`,
    );
}

/** A 1Password reference (`op://vault/item/field`) that `op run` did not resolve. */
export function unresolvedSecretReferences(env: Record<string, string | undefined>, names: Iterable<string>): string[] {
  const problems: string[] = [];
  for (const name of names) {
    if (isSecretReference(env[name])) {
      problems.push(`${name} holds a 1Password reference (op://...) that was not resolved: start under the 1Password CLI, e.g. op run --env-file=.env.local -- npm run worker`);
    }
  }
  return problems;
}
