import { z } from 'zod';
import { aliasesOf, withSettingNames } from './aliases';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Settings are declared once per area, next to the code they configure: each variable with its
 * meaning, its default and its validation. The parsers, `npm run env` and the README's settings
 * reference (`npm run env -- settings --markdown`) all read these declarations.
 */
export type SettingGroup = 'salesforce' | 'iceberg' | 'temporal' | 'worker' | 'sync' | 'parquet' | 'duckdb' | 'maintenance' | 'preflight';

/** What each area configures, in the order of the reference. */
export const SETTING_GROUPS: Record<SettingGroup, string> = {
  salesforce: 'the Salesforce source: credentials, API version, API budget and how objects are read',
  iceberg: 'the Iceberg destination: its catalog and the object store behind it',
  temporal: 'the connection to Temporal',
  worker: 'the worker process (npm run worker)',
  sync: 'how a sync extracts and writes an object',
  parquet: 'the Parquet data files',
  duckdb: 'DuckDB instead of Iceberg (local debugging)',
  maintenance: 'table maintenance: compaction, snapshot expiry, orphan removal',
  preflight: 'the checks of npm run check (and of the worker at start)',
};

export interface SettingSpec<T extends z.ZodType = z.ZodType> {
  /** Validates the raw string (after the default is applied; unset and empty are both undefined). */
  schema: T;
  description: string;
  /** Applied when the variable is unset or empty, and shown in the reference. */
  default?: string;
  /** Shown in the reference only (e.g. what the local stack sets). */
  note?: string;
  /** The Salesforce auth methods the variable belongs to. */
  methods?: string[];
  /** Never shown, never named with its value. */
  secret?: boolean;
}

/** One variable of the reference. */
export interface SettingDoc {
  name: string;
  group: SettingGroup;
  description: string;
  /** The default as shown: the value applied, and/or a note (what the local stack sets). */
  default?: string;
  /** The value applied when the variable is unset (part of `default`). */
  applied?: string;
  /** What `default` adds to the value applied, or says instead of one (part of `default`). */
  note?: string;
  methods?: string[];
  secret?: boolean;
}

type Shape<S extends Record<string, SettingSpec>> = { [K in keyof S]: z.ZodPipe<z.ZodTransform<unknown, unknown>, S[K]['schema']> };

export interface SettingsArea<S extends Record<string, SettingSpec>> {
  group: SettingGroup;
  specs: S;
  docs: SettingDoc[];
  schema: z.ZodObject<Shape<S>>;
  /** Every problem of the area's variables, each naming its variable (empty when they are valid). */
  problems(env: Record<string, string | undefined>): string[];
  /** The area's settings, validated and defaults applied; throws listing every problem. */
  parse(env: Record<string, string | undefined>): z.output<z.ZodObject<Shape<S>>>;
}

/** Declares an area's settings. */
export function settingsArea<S extends Record<string, SettingSpec>>(group: SettingGroup, specs: S): SettingsArea<S> {
  const shape = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : spec.default), spec.schema)]),
  ) as Shape<S>;
  const docs = Object.entries(specs).map(([name, s]) => ({
    name,
    group,
    description: aliasesOf(name).length ? `${s.description} (also read as ${aliasesOf(name).join(', ')}, the original pipeline's name)` : s.description,
    default: s.default !== undefined && s.note ? `${s.default} (${s.note})` : (s.default ?? s.note),
    applied: s.default,
    note: s.note,
    methods: s.methods,
    secret: s.secret,
  }));
  const area: SettingsArea<S> = {
    group,
    specs,
    docs,
    schema: z.object(shape),
    problems: (env) => parseArea(area, env).problems,
    parse: (env) => {
      const parsed = parseArea(area, env);
      if (!parsed.ok)
        throw new SyncError(`Invalid ${group} settings:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`, { code: ERROR_CODES.SETTINGS_INVALID, retryable: false });
      return parsed.value;
    },
  };
  return area;
}

/**
 * Problems as sentences that start with the variable's name: `NAME: what is wrong (it is "x")`;
 * a secret's value is never shown.
 */
export function issueMessages(specs: Record<string, SettingSpec>, issues: z.core.$ZodIssue[], env: Record<string, string | undefined>): string[] {
  return issues.map((issue) => {
    const name = issue.path.length ? String(issue.path[0]) : undefined;
    if (!name) return issue.message;
    const value = env[name]?.trim();
    if (!value && issue.code === 'invalid_type') return `${name}: not set (${specs[name]?.description ?? 'required'})`;
    const shownValue = value && !specs[name]?.secret ? ` (it is ${JSON.stringify(value)})` : '';
    return `${name}: ${issue.message}${shownValue}`;
  });
}

/** Parses an area's settings; `problems` is empty when they are valid. */
export function parseArea<S extends Record<string, SettingSpec>>(
  area: SettingsArea<S>,
  env: Record<string, string | undefined>,
): { ok: true; value: z.output<SettingsArea<S>['schema']>; problems: [] } | { ok: false; value?: undefined; problems: string[] } {
  const named = withSettingNames(env);
  const result = area.schema.safeParse(named);
  if (result.success) return { ok: true, value: result.data, problems: [] };
  return { ok: false, problems: issueMessages(area.specs, result.error.issues, named) };
}

/** true/false and the usual spellings of them. */
export const booleanSetting = z
  .string()
  .regex(/^(true|false|1|0|yes|no)$/i, { message: 'must be true or false' })
  .transform((v) => /^(true|1|yes)$/i.test(v));

/** A whole number of at least `min`. */
export const integerSetting = (min: number, max?: number) => {
  const message = max === undefined ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { message })
    .transform(Number)
    .refine((n) => n >= min && (max === undefined || n <= max), { message });
};

/** A number of seconds (fractions allowed) of at least `min`; `what` says so in the message. */
export const secondsSetting = (what: string, min: number) =>
  z
    .string()
    .regex(/^\d+(?:\.\d+)?$/, { message: `must be a number of seconds ${what}` })
    .transform(Number)
    .refine((n) => n >= min, { message: `must be a number of seconds ${what}` });

/** An http(s) URL. */
export const httpUrl = (what: string) =>
  z.string().refine(
    (v) => {
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be the http(s) URL of ${what}` },
  );
