import { createHash } from 'node:crypto';

/** Tag keys on every resource a sweep creates, so `modelsweep janitor` can find what was left. */
export const TAG_KEYS = {
  sweepId: 'modelsweep:sweep-id',
  candidateId: 'modelsweep:candidate-id',
  createdAt: 'modelsweep:created-at',
  expiresAt: 'modelsweep:expires-at',
} as const;

export interface ResourceOwner {
  readonly sweepId: string;
  /** Absent for resources shared by the sweep's candidates (a SageMaker model, an Azure endpoint). */
  readonly candidateId?: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** The tags as a plain map (Lambda, Azure). */
export function ownerTags(owner: ResourceOwner): Record<string, string> {
  return {
    [TAG_KEYS.sweepId]: owner.sweepId,
    ...(owner.candidateId ? { [TAG_KEYS.candidateId]: owner.candidateId } : {}),
    [TAG_KEYS.createdAt]: owner.createdAt.toISOString(),
    [TAG_KEYS.expiresAt]: owner.expiresAt.toISOString(),
  };
}

/** The tags as a Key/Value list (SageMaker). */
export function ownerTagList(owner: ResourceOwner): Array<{ Key: string; Value: string }> {
  return Object.entries(ownerTags(owner)).map(([Key, Value]) => ({ Key, Value }));
}

/** Reads an owner back from tags; undefined when the resource is not a sweep's. */
export function ownerFromTags(tags: Readonly<Record<string, string | undefined>>): ResourceOwner | undefined {
  const sweepId = tags[TAG_KEYS.sweepId];
  const expiresAt = new Date(tags[TAG_KEYS.expiresAt] ?? '');
  if (!sweepId || Number.isNaN(expiresAt.getTime())) return undefined;
  const createdAt = new Date(tags[TAG_KEYS.createdAt] ?? '');
  return {
    sweepId,
    ...(tags[TAG_KEYS.candidateId] ? { candidateId: tags[TAG_KEYS.candidateId] } : {}),
    createdAt: Number.isNaN(createdAt.getTime()) ? expiresAt : createdAt,
    expiresAt,
  };
}

/**
 * Whether the janitor may remove a resource: its expiry has passed, or (with `olderThanMs`) it
 * was created longer ago than that.
 */
export function isExpired(owner: ResourceOwner, now: Date, olderThanMs?: number): boolean {
  if (owner.expiresAt.getTime() <= now.getTime()) return true;
  return olderThanMs !== undefined && now.getTime() - owner.createdAt.getTime() >= olderThanMs;
}

/**
 * A resource name that is unique to the sweep and candidate, readable, and valid where names take
 * letters, digits and hyphens only (SageMaker: 63, Lambda aliases: 128, Azure deployments: 32).
 * The hash is of the sweep and candidate ids, so a shorter `label` keeps the name unique.
 */
export function resourceName(
  prefix: string,
  owner: Pick<ResourceOwner, 'sweepId' | 'candidateId'>,
  maxLength: number,
  label = owner.candidateId ?? owner.sweepId,
): string {
  const hash = createHash('sha256')
    .update(`${owner.sweepId}/${owner.candidateId ?? ''}`)
    .digest('hex')
    .slice(0, 8);
  const readable = `${prefix}-${label}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${readable.slice(0, maxLength - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}
