/**
 * mulberry32: a tiny, well-known 32-bit PRNG. Chosen because its output is identical on every
 * platform and Node version, so a seed always produces the same weights and payloads.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` float32 values drawn uniformly from [-limit, limit). */
export function uniformFloat32(random: () => number, count: number, limit: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * limit;
  return values;
}

/** An exponentially distributed draw with the given rate (events per unit), from a uniform source. */
export function exponential(random: () => number, rate: number): number {
  // 1 - u is in (0, 1], so the log is finite.
  return -Math.log(1 - random()) / rate;
}
