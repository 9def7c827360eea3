/**
 * A small seeded pseudo-random sequence (mulberry32): uniform draws in [0, 1), the same for the
 * same seed on every platform. For what must repeat exactly: forest bootstraps, benchmark data,
 * randomised tests. Not for anything secret.
 */
export function seededSequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
