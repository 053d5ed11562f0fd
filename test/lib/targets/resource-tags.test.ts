import { describe, expect, it } from 'vitest';

import { isExpired, ownerFromTags, ownerTagList, ownerTags, resourceName, TAG_KEYS } from '../../../lib/targets/cloud/resource-tags';

const owner = {
  sweepId: 'demo-20261122t1000-ab12',
  candidateId: 'sagemaker-realtime-ml.g5.xlarge-x1',
  createdAt: new Date('2026-11-22T10:00:00Z'),
  expiresAt: new Date('2026-11-22T14:00:00Z'),
};

describe('resource tags', () => {
  it('round-trip an owner through tags, as a map and as a Key/Value list', () => {
    expect(ownerFromTags(ownerTags(owner))).toEqual(owner);
    expect(Object.fromEntries(ownerTagList(owner).map((t) => [t.Key, t.Value]))).toEqual(ownerTags(owner));
    const shared = { sweepId: owner.sweepId, createdAt: owner.createdAt, expiresAt: owner.expiresAt };
    expect(ownerTags(shared)).not.toHaveProperty(TAG_KEYS.candidateId);
    expect(ownerFromTags(ownerTags(shared))).toEqual(shared);
  });

  it("read nothing from resources that are not a sweep's, or whose expiry is unreadable", () => {
    expect(ownerFromTags({ team: 'ml' })).toBeUndefined();
    expect(ownerFromTags({ [TAG_KEYS.sweepId]: 's', [TAG_KEYS.expiresAt]: 'soon' })).toBeUndefined();
  });

  it('expire after the expiry time, or with olderThan once created that long ago', () => {
    expect(isExpired(owner, new Date('2026-11-22T13:59:59Z'))).toBe(false);
    expect(isExpired(owner, new Date('2026-11-22T14:00:00Z'))).toBe(true);
    expect(isExpired(owner, new Date('2026-11-22T11:59:59Z'), 2 * 3600_000)).toBe(false);
    expect(isExpired(owner, new Date('2026-11-22T12:00:00Z'), 2 * 3600_000)).toBe(true);
  });

  it('give names unique to sweep and candidate, within the length limit, of letters, digits and hyphens', () => {
    const name = resourceName('ms', owner, 63);
    expect(name).toMatch(/^ms-sagemaker-realtime-ml-g5-xlarge-x1-[0-9a-f]{8}$/);
    expect(resourceName('ms', { ...owner, sweepId: 'other' }, 63)).not.toBe(name);
    const long = resourceName('ms', { sweepId: 's', candidateId: 'x'.repeat(200) }, 63);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
