import type { QualityResult } from '../../lib/quality/measure-quality';

/** A candidate's accuracy as a quality measurement records it: 1,000 examples, all scored. */
export const accuracyResult = (value: number, interval: [number, number]): QualityResult => ({
  metric: 'accuracy',
  examples: 1000,
  scored: 1000,
  failedRequests: {},
  value,
  interval,
});
