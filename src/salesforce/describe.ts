import { ERROR_CODES, SyncError } from '../errors';
import { SalesforceApiError, type SalesforceClient } from './client';
import type { SalesforceField } from './describe-types';

export interface SObjectDescribe {
  name: string;
  label: string;
  custom: boolean;
  /** Whether Salesforce keeps a log of its deletes (getDeleted); absent: as if true. */
  replicateable?: boolean;
  fields: SalesforceField[];
}

/** An object the org does not have: retrying cannot help. */
export class UnknownObjectError extends SyncError {
  constructor(readonly objectName: string) {
    super(`Salesforce has no object named ${objectName} (names are case-insensitive; custom objects end in __c). Check the object list of the sync.`, {
      code: ERROR_CODES.UNKNOWN_OBJECT,
      retryable: false,
    });
    this.name = 'UnknownObjectError';
  }
}

const runKey = (name: string, runId: string) => `describe:${name}:${runId}`;

/**
 * The describe a sync run's prepare took (`keepRunDescribe`), so its later steps read the same
 * fields without asking Salesforce again; asked afresh on a worker that did not prepare the run.
 */
export function runDescribe(client: SalesforceClient, name: string, runId: string): Promise<SObjectDescribe> {
  return client.remember(runKey(name, runId), () => describeObject(client, name));
}

/** Keeps the describe a run's prepare took for the run's later steps on this worker. */
export function keepRunDescribe(client: SalesforceClient, runId: string, describe: SObjectDescribe): void {
  client.keep(runKey(describe.name, runId), describe);
  client.keep(knownKey(describe.name), describe);
}

const knownKey = (name: string) => `describe:${name.toLowerCase()}`;

/**
 * The describe of `name` the last run on this worker prepared with, if it is still kept: a
 * prepare asks its questions of these fields in the same Composite request that describes the
 * object again (one API call instead of two), and asks again only when the fields changed.
 */
export function knownDescribe(client: SalesforceClient, name: string): SObjectDescribe | undefined {
  return client.kept<SObjectDescribe>(knownKey(name));
}

/** Whether two describes (as describeObject returns them: trimmed, in a fixed order) list the same fields and object properties. */
export function sameDescribe(a: SObjectDescribe, b: SObjectDescribe): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The parts of a describe this project reads (describe-types.ts), in a fixed order: a real
 * org's describe also lists picklist values, child relationships and record types, hundreds of
 * kilobytes an object that a worker keeping 200 objects' describes need not hold.
 */
export function trimDescribe(d: SObjectDescribe): SObjectDescribe {
  return {
    name: d.name,
    label: d.label,
    custom: d.custom,
    ...(d.replicateable !== undefined ? { replicateable: d.replicateable } : {}),
    fields: d.fields.map((f) => {
      const out: SalesforceField = { name: f.name, type: f.type };
      for (const key of FIELD_PROPERTIES) if (f[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = f[key];
      return out;
    }),
  };
}

const FIELD_PROPERTIES = [
  'label',
  'length',
  'precision',
  'scale',
  'digits',
  'nillable',
  'custom',
  'calculated',
  'compoundFieldName',
] as const satisfies readonly (keyof SalesforceField)[];

export async function describeObject(client: SalesforceClient, name: string): Promise<SObjectDescribe> {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new UnknownObjectError(name);
  try {
    return trimDescribe(await client.get<SObjectDescribe>(`/sobjects/${name}/describe`));
  } catch (error) {
    if (error instanceof SalesforceApiError && (error.status === 404 || error.errorCode === 'NOT_FOUND')) {
      await checkApiVersion(client);
      throw new UnknownObjectError(name);
    }
    throw error;
  }
}

/**
 * Every resource of an API version the org does not offer answers 404: say that, rather than that
 * the object does not exist.
 */
async function checkApiVersion(client: SalesforceClient): Promise<void> {
  const offered = await client.get<{ version: string }[]>('/services/data').catch(() => undefined);
  if (offered && !offered.some((v) => v.version === client.apiVersion)) {
    const newest = offered
      .map((v) => v.version)
      .sort((a, b) => Number(a) - Number(b))
      .at(-1);
    throw new SalesforceApiError(
      `This org does not offer Salesforce API version ${client.apiVersion} (SOURCES__SALESFORCE__VERSION)${newest ? `; its newest is ${newest}` : ''}.`,
      'API_VERSION_NOT_OFFERED',
      404,
      false,
    );
  }
}

/** Compound fields (address, location) are synced as their component fields instead. */
const COMPOUND_TYPES = new Set(['address', 'location']);

/**
 * The fields a sync reads: every field but compound ones (their components are fields of their
 * own), those the integration user cannot see (`hidden`: see hidden-fields.ts), and base64
 * (attachments, up to megabytes a value) only when asked for.
 */
export function syncableFields(describe: SObjectDescribe, opts: { includeBase64?: boolean; hidden?: readonly string[] } = {}): SalesforceField[] {
  const hidden = new Set(opts.hidden ?? []);
  return describe.fields.filter((f) => !COMPOUND_TYPES.has(f.type) && (opts.includeBase64 || f.type !== 'base64') && f.type !== 'complexvalue' && !hidden.has(f.name));
}

/** A field describe lists that the sync leaves out on purpose, and why. */
export interface SkippedField {
  field: string;
  reason: string;
}

/** Why base64 fields are not synced (said in each object's result). */
export const BASE64_SKIPPED = 'base64 (file contents): not synced; Bulk API 2.0 cannot read binary fields and REST returns them one record at a time';

/** The fields syncableFields leaves out that a user may look for: base64 ones (compound fields arrive as their components). */
export function skippedFields(describe: SObjectDescribe): SkippedField[] {
  return describe.fields.filter((f) => f.type === 'base64').map((f) => ({ field: f.name, reason: BASE64_SKIPPED }));
}

/** The incremental cursor field: SystemModstamp, else LastModifiedDate, else CreatedDate. */
export function cursorField(describe: SObjectDescribe): string | undefined {
  for (const name of ['SystemModstamp', 'LastModifiedDate', 'CreatedDate']) {
    if (describe.fields.some((f) => f.name === name && f.type === 'datetime')) return name;
  }
  return undefined;
}

/** One entry of the org's object list (describe global). */
export interface GlobalObject {
  name: string;
  queryable: boolean;
}

/** Every object of the org, as describe global (`/sobjects`) lists them: one call. */
export async function listObjects(client: SalesforceClient): Promise<GlobalObject[]> {
  const answer = await client.get<{ sobjects: { name: string; queryable?: boolean }[] }>('/sobjects');
  return answer.sobjects.map((o) => ({ name: o.name, queryable: o.queryable !== false }));
}
