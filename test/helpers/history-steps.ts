import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity a local activity's marker records, if the event is one. */
function localActivity(e: HistoryEvent): string | undefined {
  for (const p of e.markerRecordedEventAttributes?.details?.data?.payloads ?? []) {
    const type = /"activity_type":"([^"]+)"/.exec(Buffer.from(p.data ?? []).toString('utf8'))?.[1];
    if (type) return type;
  }
  return undefined;
}

/** The steps of a workflow's history in order: each activity scheduled and each local activity recorded (by activity name). */
export function historySteps(events: readonly HistoryEvent[]): { at: number; activity: string; local: boolean }[] {
  return events.flatMap((e, at): { at: number; activity: string; local: boolean }[] => {
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) return [{ at, activity: scheduled, local: false }];
    const local = localActivity(e);
    return local ? [{ at, activity: local, local: true }] : [];
  });
}

/** Where in the history `activity` first ran as a step (scheduled, or recorded as a local activity); -1 if never. */
export function stepAt(events: readonly HistoryEvent[], activity: string): number {
  return historySteps(events).find((s) => s.activity === activity)?.at ?? -1;
}
