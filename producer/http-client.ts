import { abortableSleep } from './source';

/**
 * The HTTP client of the API sources: JSON GETs with a per-request timeout, a per-host request
 * rate, and retries of 429, 5xx, timeouts and network errors with exponential backoff and full
 * jitter that honour `Retry-After` (seconds or an HTTP date). Other 4xx answers are not retried.
 */
export interface HttpClientOptions {
  /** Requests per second per host. */
  ratePerSecond: number;
  timeoutMs: number;
  /** Retries per request before giving up. */
  maxRetries: number;
  signal: AbortSignal;
  onRetry(reason: string, delayMs: number): void;
  /** Hides secrets (API keys) in URLs that go into messages. */
  redact?(url: string): string;
  /** First backoff step and cap; tests shrink them. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

/** A non-retryable or retries-exhausted HTTP answer. `body` is the parsed JSON body when there is one. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
  }
}

export interface JsonResponse {
  status: number;
  /** The parsed body; undefined for an empty body (Fake Store's answer for an unknown id). */
  body: unknown;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
/** Longest Retry-After we honour; a longer one waits this long and lets the next retry decide. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

export class HttpClient {
  private readonly nextSlot = new Map<string, number>();

  constructor(private readonly options: HttpClientOptions) {}

  private async waitForSlot(host: string): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot.get(host) ?? 0);
    this.nextSlot.set(host, slot + 1000 / this.options.ratePerSecond);
    if (slot > now) await abortableSleep(slot - now, this.options.signal);
  }

  async getJson(url: string): Promise<JsonResponse> {
    const { signal, maxRetries } = this.options;
    const shown = this.options.redact ? this.options.redact(url) : url;
    const host = new URL(url).host;
    for (let attempt = 0; ; attempt++) {
      await this.waitForSlot(host);
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      let retryReason: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(url, {
          headers: { accept: 'application/json', 'user-agent': 'pricedrop-producer/0.1' },
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
        });
        const text = await response.text();
        if (response.ok) {
          if (text.trim() === '') return { status: response.status, body: undefined };
          try {
            return { status: response.status, body: JSON.parse(text) };
          } catch {
            throw new HttpError(`${shown}: answered ${response.status} with a body that is not JSON`, response.status, text.slice(0, 200));
          }
        }
        const body = parseJsonOrText(text);
        if (!RETRYABLE.has(response.status)) throw new HttpError(`${shown}: HTTP ${response.status} ${errorMessage(body)}`.trim(), response.status, body);
        retryReason = `HTTP ${response.status}`;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        if (attempt >= maxRetries) throw new HttpError(`${shown}: HTTP ${response.status} after ${attempt + 1} attempts ${errorMessage(body)}`.trim(), response.status, body);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        if (signal.aborted) throw error;
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        retryReason = timedOut ? `timed out after ${this.options.timeoutMs} ms` : `network error (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
        if (attempt >= maxRetries) throw new HttpError(`${shown}: ${retryReason}, after ${attempt + 1} attempts`, 0, undefined);
      }
      const base = this.options.backoffBaseMs ?? 500;
      const cap = this.options.backoffCapMs ?? 30_000;
      const jitter = Math.random() * Math.min(cap, base * 2 ** attempt);
      const delay = retryAfterMs !== undefined ? Math.min(MAX_RETRY_AFTER_MS, retryAfterMs) + Math.random() * base * 0.2 : jitter;
      this.options.onRetry(`${shown}: ${retryReason}${retryAfterMs !== undefined ? ` (Retry-After ${Math.round(retryAfterMs / 1000)} s)` : ''}`, delay);
      await abortableSleep(delay, signal);
    }
  }
}

/** `Retry-After`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The message of an API error body (DummyJSON `message`, Best Buy `error.message` or `errorMessage`). */
function errorMessage(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 200);
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    if (typeof record.message === 'string') return record.message;
    if (typeof record.errorMessage === 'string') return record.errorMessage;
    const inner = record.error as Record<string, unknown> | undefined;
    if (inner && typeof inner.message === 'string') return inner.message;
  }
  return '';
}
