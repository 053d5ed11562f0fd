import { randomBytes } from 'node:crypto';

/** A new sweep's id: its spec's name, when it started, and a little randomness (`demo-20261122t101500123z-1a2b`). */
export function newSweepId(name: string, at: Date): string {
  return `${name}-${at.toISOString().replace(/[-:.]/g, '').toLowerCase()}-${randomBytes(2).toString('hex')}`;
}
