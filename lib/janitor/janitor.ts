import { isExpired, type ResourceOwner } from '../targets/cloud/resource-tags';

/** Something a sweep created and left: a resource to delete, or a Lambda function to put back. */
export interface Leftover {
  /** What it is, e.g. "SageMaker endpoint". */
  readonly kind: string;
  /** Where and which, e.g. "us-east-1/ms-local-threads1-1a2b3c4d". */
  readonly name: string;
  readonly owner: ResourceOwner;
  /** What removing it does: a running transform job can only be stopped (SageMaker keeps its record). */
  readonly action: 'delete' | 'restore' | 'stop';
  /** Deletes it (not-found counts as done) or restores it. */
  remove(): Promise<void>;
}

/** Lists what sweeps left in one place (a service in a region, an Azure workspace). */
export interface LeftoverFinder {
  /** e.g. "SageMaker in us-east-1". */
  readonly where: string;
  /** Resources that carry a sweep's tags, expired or not, in the order they should be removed. */
  find(): Promise<Leftover[]>;
}

export interface JanitorOptions {
  /** List only; remove nothing. */
  readonly dryRun?: boolean;
  /** Also remove what was created longer ago than this, even if not yet expired. */
  readonly olderThanMs?: number;
  /** @default new Date() */
  readonly now?: Date;
  readonly events?: {
    onScan?(where: string): void;
    onLeftover?(leftover: Leftover, outcome: 'removed' | 'would-remove' | 'failed', error?: Error): void;
  };
}

export interface JanitorReport {
  readonly removed: Leftover[];
  /** In a dry run: what would have been removed. */
  readonly wouldRemove: Leftover[];
  readonly failed: Array<{ leftover: Leftover; error: string }>;
  /** Tagged by a sweep but not expired (a sweep may still be using it). */
  readonly kept: number;
  /** Places that could not be listed, and why. */
  readonly unreachable: Array<{ where: string; error: string }>;
}

/**
 * Finds what sweeps left and removes what has expired (or is older than `olderThanMs`). One
 * failure does not stop the rest; a dry run removes nothing.
 */
export async function runJanitor(finders: readonly LeftoverFinder[], options: JanitorOptions = {}): Promise<JanitorReport> {
  const now = options.now ?? new Date();
  const report = {
    removed: [] as Leftover[],
    wouldRemove: [] as Leftover[],
    failed: [] as JanitorReport['failed'],
    kept: 0,
    unreachable: [] as JanitorReport['unreachable'],
  };
  for (const finder of finders) {
    options.events?.onScan?.(finder.where);
    let found: Leftover[];
    try {
      found = await finder.find();
    } catch (error) {
      report.unreachable.push({ where: finder.where, error: (error as Error).message });
      continue;
    }
    for (const leftover of found) {
      if (!isExpired(leftover.owner, now, options.olderThanMs)) {
        report.kept++;
        continue;
      }
      if (options.dryRun) {
        report.wouldRemove.push(leftover);
        options.events?.onLeftover?.(leftover, 'would-remove');
        continue;
      }
      try {
        await leftover.remove();
        report.removed.push(leftover);
        options.events?.onLeftover?.(leftover, 'removed');
      } catch (error) {
        report.failed.push({ leftover, error: (error as Error).message });
        options.events?.onLeftover?.(leftover, 'failed', error as Error);
      }
    }
  }
  return report;
}
