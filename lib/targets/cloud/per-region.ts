/** One `make(region)` per region, made on first use and kept: SDK clients are built once per region, not per call. */
export function perRegion<T>(make: (region: string | undefined) => T): (region: string | undefined) => T {
  const made = new Map<string, T>();
  return (region) => {
    const key = region ?? '';
    if (!made.has(key)) made.set(key, make(region));
    return made.get(key)!;
  };
}
