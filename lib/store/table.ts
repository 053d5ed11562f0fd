import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The results table, defined once: the BenchmarkSweep construct and the tests both build it
 * from here, so they cannot drift. Single-table design:
 *
 * | item      | PK              | SK                   | GSI1PK (ByModel) | GSI1SK                 |
 * |-----------|-----------------|----------------------|------------------|------------------------|
 * | sweep     | SWEEP#<id>      | META                 | MODEL#<model>    | <createdAt>#<sweepId>  |
 * | candidate | SWEEP#<id>      | CANDIDATE#<candId>   |                  |                        |
 * | selection | SWEEP#<id>      | SELECTION            |                  |                        |
 * | phase     | SWEEP#<id>      | PHASE#<candId>#<nnn> |                  |                        |
 */
export const RESULTS_TABLE = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  globalSecondaryIndexes: [{ indexName: 'ByModel', partitionKey: { name: 'GSI1PK', type: 'S' }, sortKey: { name: 'GSI1SK', type: 'S' } }],
  billingMode: 'PAY_PER_REQUEST',
} as const;

export const HISTORY_INDEX = RESULTS_TABLE.globalSecondaryIndexes[0].indexName;

export const keys = {
  sweep: (sweepId: string) => ({ PK: `SWEEP#${sweepId}`, SK: 'META' }),
  candidate: (sweepId: string, candidateId: string) => ({ PK: `SWEEP#${sweepId}`, SK: `CANDIDATE#${candidateId}` }),
  selection: (sweepId: string) => ({ PK: `SWEEP#${sweepId}`, SK: 'SELECTION' }),
  /** A measured phase of a candidate still being measured (the workflow records each as it ends). */
  phase: (sweepId: string, candidateId: string, index: number) => ({
    PK: `SWEEP#${sweepId}`,
    SK: `PHASE#${candidateId}#${String(index).padStart(4, '0')}`,
  }),
  modelHistory: (model: string, createdAt: string, sweepId: string) => ({ GSI1PK: `MODEL#${model}`, GSI1SK: `${createdAt}#${sweepId}` }),
};

/** The CreateTable request for the results table (the embedded local store uses it). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, string>();
  const keySchema = (pk: { name: string }, sk: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    { AttributeName: sk.name, KeyType: 'RANGE' as const },
  ];
  for (const k of [
    RESULTS_TABLE.partitionKey,
    RESULTS_TABLE.sortKey,
    ...RESULTS_TABLE.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ]) {
    attributes.set(k.name, k.type);
  }
  return {
    TableName: tableName,
    BillingMode: RESULTS_TABLE.billingMode,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' })),
    KeySchema: keySchema(RESULTS_TABLE.partitionKey, RESULTS_TABLE.sortKey),
    GlobalSecondaryIndexes: RESULTS_TABLE.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: keySchema(g.partitionKey, g.sortKey),
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
