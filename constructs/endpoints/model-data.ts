import { existsSync, statSync } from 'node:fs';

import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Assets from 'aws-cdk-lib/aws-s3-assets';
import type { CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

import { ModelsweepError } from '../../lib/errors';

/** How a bound {@link ModelData} appears on the model's container: one of the two is set. */
export interface ModelDataConfig {
  /** A `.tar.gz` that SageMaker downloads and unpacks into `/opt/ml/model`. */
  readonly modelDataUrl?: string;
  /** Uncompressed files under an S3 prefix, copied as they are into `/opt/ml/model`. */
  readonly modelDataSource?: CfnModel.ModelDataSourceProperty;
}

/** Where the model's artifacts come from. */
export abstract class ModelData {
  /** A gzipped tar archive in S3 (the key must end in `.tar.gz`). */
  static fromS3Object(bucket: s3.IBucket, key: string): ModelData {
    if (!Token.isUnresolved(key) && !key.endsWith('.tar.gz')) {
      throw new ModelsweepError(
        'invalid-prop',
        `modelData key must end in .tar.gz (SageMaker unpacks a gzipped tar), got "${key}"; for uncompressed files use ModelData.fromS3Prefix`,
      );
    }
    return new S3ObjectData(bucket, key);
  }

  /**
   * Uncompressed files under an S3 prefix (must end in `/`). Faster to start than a tarball for
   * large models, as SageMaker skips the unpacking.
   */
  static fromS3Prefix(bucket: s3.IBucket, prefix: string): ModelData {
    if (!Token.isUnresolved(prefix) && !prefix.endsWith('/')) {
      throw new ModelsweepError('invalid-prop', `modelData prefix must end in "/" (SageMaker reads every object under it), got "${prefix}"`);
    }
    return new S3PrefixData(bucket, prefix);
  }

  /** A local `.tar.gz` file, uploaded as a CDK asset at deploy time. */
  static fromAsset(path: string): ModelData {
    if (!existsSync(path)) throw new ModelsweepError('invalid-prop', `modelData asset ${path} does not exist`);
    if (statSync(path).isDirectory() || !path.endsWith('.tar.gz')) {
      throw new ModelsweepError(
        'invalid-prop',
        `modelData asset must be a .tar.gz file (CDK would zip a directory, which SageMaker cannot read), got ${path}`,
      );
    }
    return new AssetData(path);
  }

  /** Resolves the data for `scope` and lets `grantee` (the model's role) read it. */
  abstract bind(scope: Construct, grantee: iam.IGrantable): ModelDataConfig;
}

class S3ObjectData extends ModelData {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly key: string,
  ) {
    super();
  }
  bind(_scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    grantReadObjects(grantee, this.bucket, this.key);
    return { modelDataUrl: this.bucket.s3UrlForObject(this.key) };
  }
}

class S3PrefixData extends ModelData {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly prefix: string,
  ) {
    super();
  }
  bind(_scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    grantReadObjects(grantee, this.bucket, `${this.prefix}*`);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.prefix}*`] } },
    });
    return {
      modelDataSource: {
        s3DataSource: { s3Uri: this.bucket.s3UrlForObject(this.prefix), s3DataType: 'S3Prefix', compressionType: 'None' },
      },
    };
  }
}

class AssetData extends ModelData {
  private asset?: s3Assets.Asset;
  constructor(private readonly path: string) {
    super();
  }
  bind(scope: Construct, grantee: iam.IGrantable): ModelDataConfig {
    this.asset ??= new s3Assets.Asset(scope, 'ModelData', { path: this.path });
    grantReadObjects(grantee, this.asset.bucket, this.asset.s3ObjectKey);
    return { modelDataUrl: this.asset.s3ObjectUrl };
  }
}

/**
 * s3:GetObject on exactly the model's objects (and decrypt with the bucket's key), rather than
 * `grantRead`'s wildcard actions: the model role reads the model and nothing else.
 */
function grantReadObjects(grantee: iam.IGrantable, bucket: s3.IBucket, keyPattern: string): void {
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [bucket.arnForObjects(keyPattern)] });
  bucket.encryptionKey?.grantDecrypt(grantee);
}
