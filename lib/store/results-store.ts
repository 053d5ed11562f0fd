import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

import type { RecordedPrices } from '../cost/price-book';
import { ModelsweepError } from '../errors';
import type { PhaseResult } from '../load/phase';
import type { QualityResult } from '../quality/measure-quality';
import type { Selection } from '../select/select';
import type { Candidate } from '../spec/expand';
import type { DeploymentHandle } from '../targets/adapter';
import type { PayloadRef } from './payload-ref';
import { asSeenNow, type SweepOwner } from './sweep-liveness';
import { HISTORY_INDEX, keys } from './table';

/**
 * `interrupted`: stopped on purpose (Ctrl-C, SIGTERM, SIGHUP) after recording and tearing down
 * what it deployed; `abandoned`: its process died without a word (see `asSeenNow`), never stored.
 */
export type SweepStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'abandoned';

export type { SweepOwner } from './sweep-liveness';

export interface SweepRecord {
  readonly sweepId: string;
  readonly name: string;
  readonly model: string;
  readonly status: SweepStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The validated spec, as JSON. */
  readonly spec: unknown;
  readonly reason?: string;
  /** After this, `modelsweep janitor` may remove what the sweep created. */
  readonly expiresAt?: string;
  /** Where the workflow staged the spec's payloads (blob keys), for the load steps. */
  readonly payloads?: PayloadRef[];
  /** Where the workflow staged the quality dataset, for the quality step. */
  readonly qualityDataset?: PayloadRef;
  /** The spec file's folder, resolving its relative paths (local sweeps). */
  readonly baseDir?: string;
  /** The prices the sweep is priced with, read at its start (see PriceBook.subset). */
  readonly prices?: RecordedPrices;
  /** What was wrong with them: old figures, a price list that could not be read. */
  readonly priceWarnings?: string[];
  /** Measurement cost reserved from the budget, by candidate id. */
  readonly reserved?: Record<string, number>;
  /** How many reservations `reserved` holds: the version a reservation is conditional on. */
  readonly reservations?: number;
  /** The process running it, for a sweep run on one machine; with `heartbeatAt`, how a dead one is told. */
  readonly owner?: SweepOwner;
  /** When its process last said it was there (every `HEARTBEAT_MS`). */
  readonly heartbeatAt?: string;
}

export interface CandidateRecord {
  readonly sweepId: string;
  readonly candidate: Candidate;
  /** `skipped`: never deployed, because the search showed it could not win (or the cap was reached); `reason` says which. */
  readonly status: 'measured' | 'failed' | 'unavailable' | 'over-budget' | 'skipped';
  readonly reason?: string;
  readonly phases: PhaseResult[];
  /** Skipped: what measuring it would have taken, estimated (on-demand USD; hours of deploying and load). */
  readonly notSpent?: { readonly usd: number; readonly hours: number };
  /** Requests timed alone: the first after deploy and, where asked, one after a long idle. */
  readonly coldStarts?: ColdStart[];
  /** Set when teardown left something behind (tagged, so `modelsweep janitor` removes it). */
  readonly teardownError?: string;
  /** What measuring it was estimated to cost before it was deployed. */
  readonly measurementCostUsd?: number;
  /** Where its deployment was (the adapter's handle), for removing what candidates shared. */
  readonly deployment?: DeploymentHandle;
  /** Its answers scored against the quality dataset (sweeps with `quality`). */
  readonly quality?: QualityResult;
  readonly recordedAt: string;
}

/** One request timed on its own, on a platform that scales per request. */
export interface ColdStart {
  readonly after: 'deploy' | 'idle';
  readonly latencyMs: number;
  readonly ok: boolean;
  readonly error?: string;
  /** The platform's own initialization time, where it reports one (Lambda's Init Duration); absent when the request found a warm environment. */
  readonly initMs?: number;
  readonly billedMs?: number;
}

export interface SelectionRecord {
  readonly sweepId: string;
  readonly selection: Selection;
  readonly recordedAt: string;
}

/** Whether a write stored something new, or found the same record already there (a re-delivery). */
export type WriteOutcome = 'written' | 'already-recorded';

/**
 * Sweeps, candidate results (with their histograms) and selections in one DynamoDB table.
 * Record writes are conditional: a write delivered twice (a retried Lambda, a replayed task)
 * leaves exactly one record, the first.
 */
export class ResultsStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createSweep(sweep: Omit<SweepRecord, 'status' | 'updatedAt'>): Promise<WriteOutcome> {
    return this.putOnce({
      ...keys.sweep(sweep.sweepId),
      ...keys.modelHistory(sweep.model, sweep.createdAt, sweep.sweepId),
      type: 'sweep',
      ...sweep,
      status: 'running',
      updatedAt: sweep.createdAt,
    });
  }

  /**
   * Moves a running sweep to its final status and returns the record as it now is; marking twice
   * is harmless, reopening is refused.
   */
  async markSweepFinished(sweepId: string, status: Exclude<SweepStatus, 'running' | 'abandoned'>, at: string, reason?: string): Promise<SweepRecord> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sweep(sweepId),
          UpdateExpression: 'SET #status = :status, updatedAt = :at' + (reason ? ', reason = :reason' : ''),
          ConditionExpression: 'attribute_exists(PK) AND (#status = :running OR #status = :status)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':at': at, ':running': 'running', ...(reason ? { ':reason': reason } : {}) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<SweepRecord>(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ModelsweepError('invalid-input', `sweep ${sweepId} does not exist or has already finished with another status`, { cause: error });
      }
      throw error;
    }
  }

  async putCandidateResult(record: CandidateRecord): Promise<WriteOutcome> {
    return this.putOnce({ ...keys.candidate(record.sweepId, record.candidate.id), type: 'candidate', ...record });
  }

  /** One measured phase of a candidate (its merged generators' result), recorded once. */
  async putPhase(sweepId: string, candidateId: string, index: number, phase: PhaseResult): Promise<WriteOutcome> {
    return this.putOnce({ ...keys.phase(sweepId, candidateId, index), type: 'phase', phase });
  }

  /** A candidate's recorded phases, in order. */
  async listPhases(sweepId: string, candidateId: string): Promise<PhaseResult[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.sweep(sweepId).PK, ':prefix': `PHASE#${candidateId}#` },
    });
    return items.map((i) => i.phase as PhaseResult);
  }

  /**
   * Reserves a candidate's measurement cost from the sweep's budget, atomically: granted only if
   * what is already reserved plus `usd` stays within `maxUsd`. Asking again for a candidate that
   * holds a reservation is granted (a re-delivered task); its cost is not counted twice.
   */
  async reserveBudget(sweepId: string, candidateId: string, usd: number, maxUsd: number): Promise<{ granted: boolean; reservedUsd: number }> {
    const sweep = await this.getSweep(sweepId);
    if (!sweep) throw new ModelsweepError('not-found', `sweep ${sweepId} does not exist`);
    const reserved = sweep.reserved ?? {};
    const total = Object.values(reserved).reduce((a, b) => a + b, 0);
    if (candidateId in reserved) return { granted: true, reservedUsd: total };
    if (total + usd > maxUsd + 1e-9) return { granted: false, reservedUsd: total };
    try {
      // Conditional on the reservations read above (by their version): a concurrent one makes this one re-read.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sweep(sweepId),
          UpdateExpression: 'SET reserved = :next, reservations = :count',
          ConditionExpression: sweep.reservations ? 'reservations = :previous' : 'attribute_not_exists(reservations)',
          ExpressionAttributeValues: {
            ':next': { ...reserved, [candidateId]: usd },
            ':count': (sweep.reservations ?? 0) + 1,
            ...(sweep.reservations ? { ':previous': sweep.reservations } : {}),
          },
        }),
      );
      return { granted: true, reservedUsd: total + usd };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.reserveBudget(sweepId, candidateId, usd, maxUsd);
      throw error;
    }
  }

  /** Says on a candidate's record that its teardown left something behind. */
  async noteTeardownError(sweepId: string, candidateId: string, message: string): Promise<void> {
    await this.updateIfStill({
      Key: keys.candidate(sweepId, candidateId),
      UpdateExpression: 'SET teardownError = :message',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':message': message },
    });
  }

  async putSelection(record: SelectionRecord): Promise<WriteOutcome> {
    return this.putOnce({ ...keys.selection(record.sweepId), type: 'selection', ...record });
  }

  /** Its process is still there: a running sweep's heartbeat (nothing happens once it has finished). */
  async heartbeat(sweepId: string, at: string): Promise<void> {
    await this.updateIfStill({
      Key: keys.sweep(sweepId),
      UpdateExpression: 'SET heartbeatAt = :at',
      ConditionExpression: 'attribute_exists(PK) AND #status = :running',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':at': at, ':running': 'running' },
    });
  }

  /** An update that applies only while its condition holds; once it no longer does (the record gone or moved on), nothing happens. */
  private async updateIfStill(update: Omit<UpdateCommandInput, 'TableName'>): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, ...update }));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** A sweep as it is now (a running one whose process is gone reads `abandoned`, see `asSeenNow`). */
  async getSweep(sweepId: string): Promise<SweepRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.sweep(sweepId) }));
    return Item ? asSeenNow(strip<SweepRecord>(Item)) : undefined;
  }

  async getSelection(sweepId: string): Promise<SelectionRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.selection(sweepId) }));
    return Item ? strip<SelectionRecord>(Item) : undefined;
  }

  async listCandidateResults(sweepId: string): Promise<CandidateRecord[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.sweep(sweepId).PK, ':prefix': 'CANDIDATE#' },
    });
    return items.map((i) => strip<CandidateRecord>(i));
  }

  /** The latest sweeps of every model, newest first (a scan: for status listings, not hot paths). */
  async recentSweeps(limit = 20): Promise<SweepRecord[]> {
    const items = await allPages((start) =>
      this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#type = :sweep',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':sweep': 'sweep' },
          ExclusiveStartKey: start,
        }),
      ),
    );
    return items
      .map((i) => asSeenNow(strip<SweepRecord>(i)))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }

  /** A model's sweeps, newest first. */
  async history(model: string, limit = 50): Promise<SweepRecord[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: HISTORY_INDEX,
        KeyConditionExpression: 'GSI1PK = :model',
        ExpressionAttributeValues: { ':model': `MODEL#${model}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map((i) => asSeenNow(strip<SweepRecord>(i)));
  }

  private async putOnce(item: Record<string, unknown>): Promise<WriteOutcome> {
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'already-recorded';
      throw error;
    }
  }

  private queryAll(query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>): Promise<Record<string, unknown>[]> {
    return allPages((start) => this.db.send(new QueryCommand({ ...query, TableName: this.tableName, ExclusiveStartKey: start })));
  }
}

type Key = Record<string, unknown>;

/** Every item of a paginated Query or Scan, following LastEvaluatedKey. */
async function allPages(page: (start: Key | undefined) => Promise<{ Items?: Key[]; LastEvaluatedKey?: Key }>): Promise<Key[]> {
  const items: Key[] = [];
  let start: Key | undefined;
  do {
    const result = await page(start);
    items.push(...(result.Items ?? []));
    start = result.LastEvaluatedKey;
  } while (start);
  return items;
}

function strip<T>(item: Record<string, unknown>): T {
  const { PK: _pk, SK: _sk, GSI1PK: _g1, GSI1SK: _g2, type: _type, ...rest } = item;
  return rest as T;
}
