import type { AddressInfo } from 'node:net';

import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

import { ModelsweepError } from '../errors';
import { createTableInput } from './table';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/** A client of an embedded DynamoDB at `endpoint` (dynalite checks no credentials: placeholders). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 2 });
}

/**
 * An embedded DynamoDB (dynalite, a real implementation of the API) on 127.0.0.1, persisted
 * under `path` when given, with the results table created. For `sweep --local` and the tests;
 * credentials are placeholders, as dynalite checks none.
 */
export async function startLocalDynamo(options: { path?: string; tableName: string }): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoClient(endpoint);
  try {
    await client.send(new CreateTableCommand(createTableInput(options.tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // dynalite answers CreateTable before the table is ACTIVE (a tick later, longer on disk): a
  // write before then is ResourceNotFound, so callers get the store only once it can be written.
  for (let tries = 0; (await client.send(new DescribeTableCommand({ TableName: options.tableName }))).Table?.TableStatus !== 'ACTIVE'; tries++) {
    if (tries >= 200) throw new ModelsweepError('platform', `the embedded DynamoDB table ${options.tableName} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
