import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of a phase, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Microsecond resolution up to one hour, 3 significant digits: 0.1% worst-case error per value. */
const HISTOGRAM_OPTIONS = { lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 as const };

/**
 * An HDR histogram of latencies, recorded in microseconds. Its serialized form (compressed base64,
 * the HdrHistogram interchange format) merges exactly: a histogram decoded from several
 * generators' results and added up equals one that recorded every value itself.
 */
export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;

  constructor(histogram?: hdr.Histogram) {
    this.histogram = histogram ?? hdr.build(HISTOGRAM_OPTIONS);
  }

  /** Rebuilds a histogram from {@link encode}'s output. */
  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded));
  }

  /** The exact merge of several serialized histograms. */
  static merge(encoded: readonly string[]): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const e of encoded) merged.add(LatencyHistogram.decode(e));
    return merged;
  }

  recordMs(latencyMs: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The latency at a percentile (0-100), in milliseconds. */
  percentileMs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    const count = this.histogram.totalCount;
    const at = (p: number) => (count === 0 ? 0 : this.percentileMs(p));
    return {
      count,
      min: count === 0 ? 0 : this.histogram.minNonZeroValue / 1000,
      mean: count === 0 ? 0 : this.histogram.mean / 1000,
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: count === 0 ? 0 : this.histogram.maxValue / 1000,
    };
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }
}
