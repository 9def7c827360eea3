/**
 * Stateless seeded randomness: every draw is a pure function of (seed, a, b, c), so the simulated
 * market is the same whatever order it is asked in, across restarts and for any time range.
 */

/** A 32-bit hash of four integers (murmur3 finaliser over a simple mix). */
export function hash32(seed: number, a: number, b = 0, c = 0): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = mix(h, a);
  h = mix(h, b);
  h = mix(h, c);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mix(h: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** A uniform draw in [0, 1). */
export function unit(seed: number, a: number, b = 0, c = 0): number {
  return hash32(seed, a, b, c) / 4294967296;
}

/** A uniform draw in [min, max). */
export function between(seed: number, min: number, max: number, a: number, b = 0, c = 0): number {
  return min + (max - min) * unit(seed, a, b, c);
}

/** An element picked uniformly. */
export function pick<T>(items: readonly T[], seed: number, a: number, b = 0, c = 0): T {
  return items[hash32(seed, a, b, c) % items.length] as T;
}

/** A standard normal draw (Box-Muller over two hashed uniforms). */
export function normal(seed: number, a: number, b = 0, c = 0): number {
  const u1 = Math.max(1e-12, unit(seed, a, b, c * 2 + 1));
  const u2 = unit(seed, a, b, c * 2 + 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
