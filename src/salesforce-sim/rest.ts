import crypto from 'node:crypto';
import type http from 'node:http';
import type { SimContext } from './context';
import type { SimField } from './objects';
import { apiDatetime, DELETE_LOG_DAYS, type SimRecord } from './org';
import { parseSoql } from './soql';
import type { Cursor, FaultRule } from './types';

/* REST: the version's resources, limits, sobjects and describe, query/queryAll with nextRecordsUrl paging. */

export function rest(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, version: string, rest: string, url: URL, fault?: FaultRule): void {
  if (rest === '')
    return sim.json(res, 200, {
      sobjects: `/services/data/v${version}/sobjects`,
      query: `/services/data/v${version}/query`,
      limits: `/services/data/v${version}/limits`,
      identity: sim.identityUrl,
    });
  if (rest === '/limits') return sim.json(res, 200, sim.limits());
  if (rest === '/sobjects') {
    return sim.json(res, 200, {
      encoding: 'UTF-8',
      maxBatchSize: 200,
      sobjects: [...sim.org.objects.values()].map((o) => ({
        name: o.name,
        label: o.label,
        keyPrefix: o.keyPrefix,
        custom: o.custom,
        queryable: true,
        retrieveable: true,
        createable: true,
        deletable: true,
        urls: { sobject: `/services/data/v${version}/sobjects/${o.name}`, describe: `/services/data/v${version}/sobjects/${o.name}/describe` },
      })),
    });
  }
  const describe = /^\/sobjects\/([A-Za-z0-9_]+)\/describe$/.exec(rest);
  if (describe) {
    const o = sim.org.object(describe[1]!);
    if (!o) return sim.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    return sim.json(res, 200, {
      name: o.name,
      label: o.label,
      keyPrefix: o.keyPrefix,
      custom: o.custom,
      queryable: true,
      // getDeleted and getUpdated serve it.
      replicateable: true,
      fields: o.fields.map((f) => ({
        name: f.name,
        label: f.label,
        type: f.type,
        soapType: soapType(f),
        length: f.length ?? 0,
        precision: f.precision ?? 0,
        scale: f.scale ?? 0,
        digits: f.digits ?? 0,
        nillable: f.nillable ?? true,
        custom: f.custom ?? false,
        calculated: f.calculated ?? false,
        compoundFieldName: f.compoundFieldName ?? null,
        referenceTo: f.referenceTo ? [objectForPrefix(sim, f.referenceTo)] : [],
        // History objects' OldValue and NewValue (anyType) sort but do not filter, as in Salesforce.
        filterable: f.type !== 'textarea' && f.type !== 'base64' && f.type !== 'anyType',
        sortable: f.type !== 'textarea' && f.type !== 'base64',
        updateable: !['id', 'datetime'].includes(f.type),
      })),
      urls: { describe: `/services/data/v${version}/sobjects/${o.name}/describe` },
    });
  }
  const deleted = /^\/sobjects\/([A-Za-z0-9_]+)\/deleted\/?$/.exec(rest);
  if (deleted) return getDeleted(sim, res, deleted[1]!, url);
  const query = /^\/(query|queryAll)(?:\/([A-Za-z0-9-]+))?$/.exec(rest);
  if (query) {
    const all = query[1] === 'queryAll';
    if (query[2]) {
      const cursor = sim.cursors.get(query[2]);
      if (!cursor || fault?.kind === 'invalid-locator') return sim.json(res, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
      return page(sim, res, version, query[2], cursor);
    }
    const soql = url.searchParams.get('q');
    if (!soql) return sim.json(res, 400, [{ message: 'A query string has to be specified', errorCode: 'MALFORMED_QUERY' }]);
    const parsed = parseSoql(soql);
    const result = sim.org.run(parsed, all);
    if (parsed.count) return sim.json(res, 200, { totalSize: result.numbers.length, done: true, records: [] });
    const batch = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1];
    const pageSize = Math.min(2000, Math.max(200, batch ? Number(batch) : 2000));
    const id = `01g${crypto.randomBytes(6).toString('hex')}`;
    const cursor: Cursor = { numbers: result.numbers, fields: result.fields, objectName: result.object.name, pos: 0, pageSize, all };
    sim.cursors.set(id, cursor);
    return page(sim, res, version, id, cursor);
  }
  return sim.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
}

/** Salesforce reads getDeleted's dates to the minute: the seconds are ignored. */
const toMinute = (ms: number) => ms - (((ms % 60_000) + 60_000) % 60_000);

/** Most Ids one getDeleted call returns. */
export const GET_DELETED_MAX_IDS = 600_000;

/**
 * sObject Get Deleted (`/sobjects/X/deleted/?start=&end=`) as Salesforce documents it: the rows
 * deleted between start and end (seconds ignored; start more than a minute before end, and no
 * more than 15 days back or before the object's delete log was last purged, else
 * INVALID_REPLICATION_DATE), at most 600,000 Ids (else EXCEEDED_ID_LIMIT), with
 * earliestDateAvailable and latestDateCovered.
 */
function getDeleted(sim: SimContext, res: http.ServerResponse, objectName: string, url: URL): void {
  const o = sim.org.object(objectName);
  if (!o) return sim.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  const [start, end] = ['start', 'end'].map((k) => Date.parse(url.searchParams.get(k) ?? ''));
  if (!Number.isFinite(start) || !Number.isFinite(end))
    return sim.json(res, 400, [{ errorCode: 'MALFORMED_QUERY', message: 'start and end must both be dateTime values (e.g. 2026-01-01T00:00:00+00:00)' }]);
  const [from, to] = [toMinute(start!), toMinute(end!)];
  const refuse = (message: string) => sim.json(res, 400, [{ errorCode: 'INVALID_REPLICATION_DATE', message }]);
  if (to - from <= 60_000) return refuse('startDate must chronologically precede endDate by more than one minute');
  const now = Date.now();
  const { earliest, records } = sim.org.deletedBetween(o.name, from, to, now);
  if (from < now - DELETE_LOG_DAYS * 86_400_000) return refuse(`startDate cannot be more than ${DELETE_LOG_DAYS} days ago`);
  if (from < earliest)
    return refuse(`startDate is before the earliest date available in the delete log (${apiDatetime(new Date(earliest).toISOString())}): replicate the data again`);
  if (records.length > GET_DELETED_MAX_IDS)
    return sim.json(res, 400, [{ errorCode: 'EXCEEDED_ID_LIMIT', message: `More than ${GET_DELETED_MAX_IDS} ids found: choose start and end dates closer together` }]);
  sim.json(res, 200, {
    deletedRecords: records.map((r) => ({ id: r.id, deletedDate: apiDatetime(new Date(r.deletedMs).toISOString()) })),
    earliestDateAvailable: apiDatetime(new Date(earliest).toISOString()),
    // Every delete the sim makes is complete at once: the log covers the window up to now.
    latestDateCovered: apiDatetime(new Date(Math.min(to, now)).toISOString()),
  });
}

export function objectForPrefix(sim: SimContext, prefix: string): string {
  return [...sim.org.objects.values()].find((o) => o.keyPrefix === prefix)?.name ?? 'User';
}

/** One page of a query result; nextRecordsUrl names the rest as Salesforce does (<locator>-<offset>). */
export function page(sim: SimContext, res: http.ServerResponse, version: string, locator: string, cursor: Cursor): void {
  const [id, offsetText] = locator.split('-');
  const offset = offsetText ? Number(offsetText) : 0;
  const o = sim.org.object(cursor.objectName)!;
  const slice = cursor.numbers.slice(offset, offset + cursor.pageSize).map((n) => sim.org.record(o, n, true)!);
  const next = offset + slice.length;
  const done = next >= cursor.numbers.length;
  if (done) sim.cursors.delete(id!);
  else sim.cursors.set(`${id}-${next}`, cursor);
  sim.json(res, 200, {
    totalSize: cursor.numbers.length,
    done,
    ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/${cursor.all ? 'queryAll' : 'query'}/${id}-${next}` }),
    records: slice.map((r) => restRecord(sim, version, cursor.objectName, cursor.fields, r)),
  });
}

export function restRecord(sim: SimContext, version: string, objectName: string, fields: SimField[], r: SimRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type: objectName, url: `/services/data/v${version}/sobjects/${objectName}/${String(r.Id)}` } };
  for (const f of fields) {
    let v = r[f.name];
    if (v !== null && v !== undefined) {
      if (f.type === 'datetime') v = apiDatetime(String(v));
      // REST returns the blob's URL for base64 fields, not its content.
      if (f.type === 'base64') v = `/services/data/v${version}/sobjects/${objectName}/${String(r.Id)}/${f.name}`;
    }
    if (f.type === 'address' && f.compoundFieldName === null) v = compoundAddress(r, f.name);
    out[f.name] = v ?? null;
  }
  return out;
}

function soapType(f: SimField): string {
  switch (f.type) {
    case 'id':
    case 'reference':
      return 'tns:ID';
    case 'boolean':
      return 'xsd:boolean';
    case 'int':
      return 'xsd:int';
    case 'double':
    case 'percent':
    case 'currency':
      return 'xsd:double';
    case 'date':
      return 'xsd:date';
    case 'datetime':
      return 'xsd:dateTime';
    case 'time':
      return 'xsd:time';
    case 'base64':
      return 'xsd:base64Binary';
    case 'address':
      return 'urn:address';
    case 'anyType':
      return 'xsd:anyType';
    default:
      return 'xsd:string';
  }
}

/** An address compound field as REST returns it, from its component fields. */
function compoundAddress(r: SimRecord, name: string): Record<string, unknown> {
  const prefix = name.replace(/Address$/, '');
  return {
    street: r[`${prefix}Street`] ?? null,
    city: r[`${prefix}City`] ?? null,
    postalCode: r[`${prefix}PostalCode`] ?? null,
    country: r[`${prefix}Country`] ?? null,
    latitude: r[`${prefix}Latitude`] ?? null,
    longitude: r[`${prefix}Longitude`] ?? null,
    geocodeAccuracy: null,
    state: null,
  };
}
