import { hostname } from 'node:os';

import { describe, expect, it } from 'vitest';

import type { SweepRecord } from '../../../lib/store/results-store';
import { asSeenNow, SILENT_MS } from '../../../lib/store/sweep-liveness';

const at = Date.parse('2026-12-02T12:00:00.000Z');
const sweep = (fields: Partial<SweepRecord>): SweepRecord => ({
  sweepId: 's-1',
  name: 's',
  model: 'm',
  status: 'running',
  createdAt: '2026-12-02T11:59:00.000Z',
  updatedAt: '2026-12-02T11:59:00.000Z',
  heartbeatAt: '2026-12-02T11:59:55.000Z',
  spec: {},
  owner: { pid: 4242, host: hostname() },
  ...fields,
});
const alive = () => true;
const dead = () => false;

describe('whether a running sweep still has its process', () => {
  it('leaves a sweep whose process is alive and beating as running', () => {
    expect(asSeenNow(sweep({}), at, alive).status).toBe('running');
  });

  it('reads a sweep whose process on this machine is gone as abandoned, saying which process', () => {
    const seen = asSeenNow(sweep({}), at, dead);
    expect(seen.status).toBe('abandoned');
    expect(seen.reason).toBe('its process (pid 4242) is gone: it was killed or crashed before it finished; what it measured is kept');
  });

  it('reads a silent sweep as abandoned: its pid may have been reused here, or it ran elsewhere', () => {
    const silent = { heartbeatAt: new Date(at - SILENT_MS - 1_000).toISOString() };
    expect(asSeenNow(sweep(silent), at, alive).status).toBe('abandoned');
    const elsewhere = asSeenNow(sweep({ ...silent, owner: { pid: 7, host: 'another-host' } }), at, alive);
    expect(elsewhere.reason).toMatch(/^its process \(pid 7 on another-host\) has been silent for 61 s/);
    expect(asSeenNow(sweep({ owner: { pid: 7, host: 'another-host' } }), at, dead).status).toBe('running');
  });

  it('never touches a finished sweep, or a cloud one (no owner: its state machine says)', () => {
    expect(asSeenNow(sweep({ status: 'succeeded' }), at, dead).status).toBe('succeeded');
    expect(asSeenNow(sweep({ owner: undefined, heartbeatAt: undefined, updatedAt: '2026-01-01T00:00:00.000Z' }), at, dead).status).toBe('running');
  });
});
