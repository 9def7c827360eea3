import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit';

describe('createRateLimiter', () => {
  it('allows a burst, refuses the next with Retry-After, then refills', () => {
    let t = 0;
    const limiter = createRateLimiter({ perSecond: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    t += 500;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('keeps at most maxClients buckets, dropping the least recently seen', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxClients: 3, now: () => 0 });
    for (const client of ['a', 'b', 'c']) limiter.take(client);
    limiter.take('a');
    limiter.take('d');
    expect(limiter.size).toBe(3);
    // 'b' was dropped (oldest), so it starts afresh with a full bucket; 'a' is still empty.
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });
});
