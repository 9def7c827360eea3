/**
 * Per-client token buckets: each client (remote address) may burst `burst` requests, refilled at
 * `perSecond` tokens a second. Memory is bounded: at most `maxClients` buckets are kept (the
 * least recently seen is dropped first), so a flood of spoofed or rotating addresses cannot grow it.
 */
export interface RateLimiterOptions {
  perSecond: number;
  burst: number;
  maxClients?: number;
  now?: () => number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one token is available (for Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(client: string): RateDecision;
  readonly size: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const maxClients = options.maxClients ?? 50_000;
  const now = options.now ?? (() => performance.now());
  const rate = options.perSecond / 1000;
  // Map iteration order is insertion order: re-inserting on use keeps the oldest first.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    get size() {
      return buckets.size;
    },
    take(client) {
      const t = now();
      const bucket = buckets.get(client);
      let tokens = options.burst;
      if (bucket) {
        tokens = Math.min(options.burst, bucket.tokens + (t - bucket.at) * rate);
        buckets.delete(client);
      } else if (buckets.size >= maxClients) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      if (tokens >= 1) {
        buckets.set(client, { tokens: tokens - 1, at: t });
        return { allowed: true, retryAfterSeconds: 0 };
      }
      buckets.set(client, { tokens, at: t });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)) };
    },
  };
}
