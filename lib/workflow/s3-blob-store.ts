import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import { BlobNotFound, type BlobStore } from './blob-store';

/** An S3 bucket as a blob store. */
export function s3BlobStore(client: S3Client, bucket: string): BlobStore {
  return {
    async put(key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
    },
    async get(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await object.Body!.transformToByteArray());
      } catch (error) {
        if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') throw new BlobNotFound(`s3://${bucket}/${key}`, { cause: error });
        throw error;
      }
    },
    locate: (key) => `s3://${bucket}/${key}`,
  };
}
