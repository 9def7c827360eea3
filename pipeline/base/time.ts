/** Time units in milliseconds, and UTC epoch days: the one definition the whole project uses. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Epoch day (days since 1970-01-01 UTC) of an epoch-ms time. */
export function dayOf(t: number): number {
  return Math.floor(t / DAY_MS);
}

/** `YYYY-MM-DD` of an epoch day. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
