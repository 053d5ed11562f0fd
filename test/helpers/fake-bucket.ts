import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';

import { awsError, type CommandLog } from './cloud-sweep';

/** An object in a {@link fakeBucket}: its bytes, and when it was written (S3's LastModified). */
export interface FakeObject {
  readonly body: Uint8Array;
  readonly at: Date;
}

export const objectText = (o: FakeObject | undefined): string => new TextDecoder().decode(o?.body ?? new Uint8Array());

/**
 * A bucket as S3 keeps one, behind a mocked S3 client: HeadBucket, Put, Head, Get, List (a page of
 * 1,000 at a time, continuing after the last key listed, as S3 does) and DeleteObjects, each List
 * and Delete logged. `beforeLook` runs before each HeadObject (where a test makes answers appear);
 * `now` dates what Put writes. Returns the objects, key → object, for the test to read and add to.
 */
export function fakeBucket(
  s3: AwsStub<any, any, any>,
  log: CommandLog,
  options: { readonly beforeLook?: (key: string) => void; readonly now?: () => Date } = {},
): Map<string, FakeObject> {
  const objects = new Map<string, FakeObject>();
  s3.on(HeadBucketCommand).resolves({});
  s3.on(PutObjectCommand).callsFake((i) => {
    log.push(['S3 PutObject', { Key: i.Key }]);
    const body = typeof i.Body === 'string' ? new TextEncoder().encode(i.Body) : (i.Body as Uint8Array);
    objects.set(i.Key, { body, at: options.now?.() ?? new Date() });
    return {};
  });
  s3.on(HeadObjectCommand).callsFake((i) => {
    options.beforeLook?.(i.Key);
    if (!objects.has(i.Key)) throw awsError('NotFound', 'NotFound', 404);
    return { ContentLength: objects.get(i.Key)!.body.length };
  });
  s3.on(GetObjectCommand).callsFake((i) => {
    const o = objects.get(i.Key);
    if (!o) throw awsError('NoSuchKey', 'NoSuchKey', 404);
    return { ContentLength: o.body.length, Body: { transformToByteArray: async () => o.body } };
  });
  s3.on(ListObjectsV2Command).callsFake((i) => {
    log.push(['S3 ListObjectsV2', i]);
    const keys = [...objects.keys()].filter((k) => k.startsWith(i.Prefix ?? '')).sort();
    const after = keys.filter((k) => i.ContinuationToken === undefined || k > i.ContinuationToken);
    const page = after.slice(0, i.MaxKeys ?? 1000);
    const more = after.length > page.length;
    return {
      Contents: page.map((Key) => ({ Key, LastModified: objects.get(Key)!.at })),
      KeyCount: page.length,
      IsTruncated: more,
      ...(more ? { NextContinuationToken: page.at(-1) } : {}),
    };
  });
  s3.on(DeleteObjectsCommand).callsFake((i) => {
    log.push(['S3 DeleteObjects', i]);
    for (const { Key } of i.Delete.Objects) objects.delete(Key);
    return { Deleted: i.Delete.Objects };
  });
  return objects;
}
