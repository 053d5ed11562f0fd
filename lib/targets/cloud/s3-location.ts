import { ModelsweepError } from '../../errors';

/** An s3:// URL's bucket, and its key or key prefix without slashes at either end (empty for the bucket itself). */
export function s3Location(url: string): { readonly bucket: string; readonly key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new ModelsweepError('invalid-input', `${url} is not an s3://bucket/prefix URL`);
  return { bucket: match[1]!, key: match[2]!.replace(/^\/+|\/+$/g, '') };
}
