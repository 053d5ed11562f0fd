import { describe, expect, it } from 'vitest';

import { failureKey, weightedPayloadPicker } from '../../../lib/load/invoker';

describe('weighted payloads', () => {
  it('picks payloads in proportion to their weights, reproducibly', () => {
    const payloads = [
      { name: 'small', body: 'a', contentType: 'text/plain', weight: 3 },
      { name: 'large', body: 'b', contentType: 'text/plain', weight: 1 },
    ];
    const pick = weightedPayloadPicker(payloads, 9);
    const draws = Array.from({ length: 20_000 }, () => pick().name);
    const small = draws.filter((n) => n === 'small').length / draws.length;
    expect(small).toBeGreaterThan(0.74);
    expect(small).toBeLessThan(0.76);
    const again = weightedPayloadPicker(payloads, 9);
    expect(Array.from({ length: 100 }, () => again().name)).toEqual(draws.slice(0, 100));
  });

  it.each([
    [[], /need at least one payload/],
    [
      [
        { body: 'a', contentType: 'x', weight: 0 },
        { body: 'b', contentType: 'x' },
      ],
      /payloads\[0\]\.weight must be above 0, got 0/,
    ],
  ])('refuses a bad payload set', (payloads, message) => {
    expect(() => weightedPayloadPicker(payloads, 1)).toThrow(message);
  });

  it('names failures by kind', () => {
    expect(failureKey({ kind: 'http', status: 503 })).toBe('http_503');
    expect(failureKey({ kind: 'connection', code: 'ECONNREFUSED' })).toBe('connection_ECONNREFUSED');
    expect(failureKey({ kind: 'timeout' })).toBe('timeout');
    expect(failureKey({ kind: 'target', code: 'ModelError' })).toBe('target_ModelError');
  });
});
