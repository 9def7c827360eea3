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

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function num(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/** Whether `iso` has the canonical shape `YYYY-MM-DDTHH:MM:SS.sssZ` (what the cache stores). */
export function isCanonical(iso: string): boolean {
  return (
    iso.length === 24 &&
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(10) === 84 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58 &&
    iso.charCodeAt(19) === 46 &&
    iso.charCodeAt(23) === 90 &&
    isDigits(iso, 0, 4) &&
    isDigits(iso, 5, 7) &&
    isDigits(iso, 8, 10) &&
    isDigits(iso, 11, 13) &&
    isDigits(iso, 14, 16) &&
    isDigits(iso, 17, 19) &&
    isDigits(iso, 20, 23)
  );
}

/**
 * Milliseconds since 1970-01-01 UTC of an ISO 8601 instant. The canonical
 * `YYYY-MM-DDTHH:MM:SS.sssZ` is read digit by digit (a tenth of Date.parse's cost); anything else
 * goes through Date.parse.
 */
export function instantMs(iso: string): number {
  if (isCanonical(iso)) {
    const month = num(iso, 5, 7);
    const day = num(iso, 8, 10);
    const hour = num(iso, 11, 13);
    const minute = num(iso, 14, 16);
    const second = num(iso, 17, 19);
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60) {
      return Date.UTC(num(iso, 0, 4), month - 1, day) + hour * HOUR_MS + minute * 60_000 + second * 1000 + num(iso, 20, 23);
    }
  }
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`observed_at is not an ISO 8601 instant: ${JSON.stringify(iso)}`);
  return ms;
}
