import { defineSignal } from '@temporalio/workflow';

/** An activity attempt that failed and will be retried: why, so `progress` can say it. */
export interface RetryNotice {
  activity: string;
  attempt: number;
  reason: string;
}

/**
 * Sent by an activity to its own workflow when an attempt fails with a fault that can heal: the
 * workflow's `progress` query shows the reason while Temporal retries, not only attempt counts.
 */
export const activityRetryingSignal = defineSignal<[RetryNotice]>('activityRetrying');

/**
 * Sent by an activity to its own workflow while it waits for something outside (the Salesforce
 * API budget), and again with no reason once it goes on: `progress` shows the wait.
 */
export const activityWaitingSignal = defineSignal<[{ activity: string; reason?: string }]>('activityWaiting');

/**
 * Sent by an object's workflow to its parent: the parent's `progress` shows the object retrying or
 * waiting (no reason: it runs on).
 */
export const objectRetryingSignal = defineSignal<[{ object: string; reason?: string }]>('objectRetrying');

/**
 * Sent by an extraction to its own workflow when it records a checkpoint (the first one, then at
 * most every few minutes, so the history stays small): the workflow's current details in the Web
 * UI show rows and files so far without opening the heartbeat.
 */
export const extractProgressSignal = defineSignal<[{ rows: number; files: number }]>('extractProgress');
