import { z } from 'zod';
import { ERROR_CODES, SyncError } from '../errors';
import { SalesforceApiError, type SalesforceClient } from './client';

/*
 * Salesforce's delete log through REST's sObject Get Deleted resource
 * (`/sobjects/<Object>/deleted/?start=&end=`): the Ids of every row deleted in a time window, soft
 * and hard deletes alike, one cheap call where queryAll sees only the Recycle Bin and an Id
 * reconciliation reads every Id of the object. Salesforce keeps the log 15 days at most, purges it
 * when it grows too large or the Recycle Bin is emptied, reads the window's dates to the minute
 * (seconds ignored), wants more than a minute between start and end, and returns at most 600,000
 * Ids per call.
 */

/** How far back Salesforce's delete log answers. */
export const DELETE_LOG_DAYS = 15;
/** A window must start before this much of the 15 days is gone, so the call reaches Salesforce in time. */
const DELETE_LOG_MARGIN_MS = 10 * 60_000;
const MINUTE_MS = 60_000;

const GetDeletedResult = z.object({
  deletedRecords: z.array(z.object({ id: z.string(), deletedDate: z.string().optional() })),
  earliestDateAvailable: z.string().nullish(),
  latestDateCovered: z.string().nullish(),
});

/** The log cannot say what was deleted in the window: the caller must compare every Id instead. */
export class DeleteLogUnavailable extends SyncError {
  constructor(readonly reason: string) {
    super(reason, { code: ERROR_CODES.SALESFORCE_REFUSED, retryable: false });
    this.name = 'DeleteLogUnavailable';
  }
}

export interface DeleteLogWindow {
  /** The rows deleted after this instant (the table's cursor: where the last sync's window ended)... */
  after: string;
  /** ...up to this one (this sync's window end). */
  upTo: string;
}

const floorMinute = (ms: number) => ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
const ceilMinute = (ms: number) => floorMinute(ms + MINUTE_MS - 1);
/** Dates as getDeleted documents them (`2026-01-01T00:00:00+00:00`). */
const asParam = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

/**
 * The whole minutes a window is asked as: from the minute `after` falls in (so nothing deleted in
 * its last seconds is missed) to the minute after `upTo` (Salesforce ignores seconds: rounding down
 * would leave out the window's last seconds until the next sync), at least two minutes apart
 * (Salesforce wants start more than a minute before end; the earlier start re-reads Ids already
 * removed, which removes nothing).
 */
export function deleteLogMinutes(window: DeleteLogWindow): { start: number; end: number } {
  const end = ceilMinute(Date.parse(window.upTo));
  const start = Math.min(floorMinute(Date.parse(window.after)), end - 2 * MINUTE_MS);
  return { start, end };
}

/**
 * Why the log cannot cover the window before asking Salesforce, or undefined: a window that
 * starts more than 15 days ago (a sync after a long pause) is past what the log keeps.
 */
export function deleteLogTooOld(window: DeleteLogWindow, nowMs = Date.now()): string | undefined {
  const { start } = deleteLogMinutes(window);
  if (start >= nowMs - DELETE_LOG_DAYS * 86_400_000 + DELETE_LOG_MARGIN_MS) return undefined;
  const days = Math.floor((nowMs - start) / 86_400_000);
  return `the table's cursor (${window.after}) is ${days} days old, and Salesforce keeps its log of deleted rows for ${DELETE_LOG_DAYS} days`;
}

/**
 * The Ids of the object's rows deleted in the window, read from Salesforce's delete log: one call,
 * or more when Salesforce finds over 600,000 Ids (the window is then read in halves). Throws
 * DeleteLogUnavailable when the log cannot cover the window (older than 15 days, purged since the
 * window began, or not complete up to its end), with Salesforce's reason.
 */
export async function readDeleteLog(client: SalesforceClient, object: string, window: DeleteLogWindow): Promise<string[]> {
  const tooOld = deleteLogTooOld(window);
  if (tooOld) throw new DeleteLogUnavailable(tooOld);
  const { start, end } = deleteLogMinutes(window);
  const ids = new Set<string>();
  await readMinutes(client, object, start, end, { after: Date.parse(window.after), upTo: Date.parse(window.upTo) }, ids);
  return [...ids];
}

/**
 * One call (or, past the Id limit, halves). Rows deleted at or before `after` are left out: the
 * last sync's call covered them (it must cover its whole window, below), and the whole minutes
 * asked for here would otherwise delete them again, making a sync that changed nothing look changed.
 */
async function readMinutes(client: SalesforceClient, object: string, start: number, end: number, window: { after: number; upTo: number }, ids: Set<string>): Promise<void> {
  let answer: z.infer<typeof GetDeletedResult>;
  try {
    answer = GetDeletedResult.parse(await client.get(`/sobjects/${object}/deleted/?start=${encodeURIComponent(asParam(start))}&end=${encodeURIComponent(asParam(end))}`));
  } catch (error) {
    if (!(error instanceof SalesforceApiError)) throw error;
    if (error.errorCode === 'EXCEEDED_ID_LIMIT' && end - start >= 4 * MINUTE_MS) {
      const mid = floorMinute(start + (end - start) / 2);
      // Each half more than a minute long; they share their boundary minute (an Id read twice is one).
      await readMinutes(client, object, start, mid, window, ids);
      await readMinutes(client, object, mid, end, window, ids);
      return;
    }
    if (error.errorCode === 'INVALID_REPLICATION_DATE' || error.errorCode === 'EXCEEDED_ID_LIMIT')
      throw new DeleteLogUnavailable(`Salesforce's log of deleted ${object} rows cannot cover the window: ${error.message}`);
    throw error;
  }
  const earliest = answer.earliestDateAvailable ? Date.parse(answer.earliestDateAvailable) : undefined;
  if (earliest !== undefined && earliest > start)
    throw new DeleteLogUnavailable(
      `Salesforce purged its log of deleted ${object} rows at ${answer.earliestDateAvailable}, after the window began (${new Date(start).toISOString()})`,
    );
  const covered = answer.latestDateCovered ? Date.parse(answer.latestDateCovered) : undefined;
  // The log must cover the window to its end (a transaction still running leaves it short): the next sync reads on from there.
  if (covered !== undefined && covered < Math.min(end, window.upTo))
    throw new DeleteLogUnavailable(`Salesforce's log of deleted ${object} rows covers only up to ${answer.latestDateCovered}, before the window's end`);
  for (const r of answer.deletedRecords) if (r.deletedDate === undefined || !(Date.parse(r.deletedDate) <= window.after)) ids.add(r.id);
}
