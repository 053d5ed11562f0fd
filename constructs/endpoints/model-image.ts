import { Aws, CfnMapping, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { DLC_REGISTRY_ACCOUNTS } from '../../lib/catalog/dlc-registries';
import { GENERATIVE_SERVERS, type GenerativeServer } from '../../lib/catalog/generative-servers';
import { ModelsweepError } from '../../lib/errors';

/** What a bound {@link ModelImage} gives the model: the image URI SageMaker pulls. */
export interface ModelImageConfig {
  readonly imageUri: string;
}

const REPOSITORY_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;

/** The container image that serves a model on SageMaker. */
export abstract class ModelImage {
  /**
   * An image in an ECR repository of yours.
   * @param tagOrDigest a tag (`v1`) or a digest (`sha256:...`); @default 'latest'
   */
  static fromEcrRepository(repository: ecr.IRepository, tagOrDigest: string = 'latest'): ModelImage {
    return new EcrRepositoryImage(repository, tagOrDigest);
  }

  /**
   * An image built from a local directory with a Dockerfile. Synthesis only stages the
   * directory; Docker runs at `cdk deploy`. Built for linux/amd64 unless `platform` says otherwise.
   */
  static fromAsset(directory: string, options: Omit<ecrAssets.DockerImageAssetProps, 'directory'> = {}): ModelImage {
    return new AssetImage(directory, options);
  }

  /**
   * An AWS Deep Learning Container, e.g. `('pytorch-inference', '2.3.0-gpu-py311')` or
   * `('sagemaker-tritonserver', '24.09-py3')`. The registry account is resolved for the stack's
   * region; in a region-agnostic stack, at deploy time through a CloudFormation mapping.
   */
  static fromDeepLearningContainer(repositoryName: string, tag: string): ModelImage {
    if (!REPOSITORY_NAME.test(repositoryName)) {
      throw new ModelsweepError('invalid-prop', `repositoryName must be an ECR repository name like "pytorch-inference", got "${repositoryName}"`);
    }
    if (!IMAGE_TAG.test(tag)) throw new ModelsweepError('invalid-prop', `tag must be an image tag like "24.09-py3", got "${tag}"`);
    return new DeepLearningContainerImage(repositoryName, tag);
  }

  /**
   * AWS's Large Model Inference container (`djl-inference`), e.g. `'0.33.0-lmi15.0.0-cu128'`: a
   * generative server that SageMakerEndpoint's `generative` prop configures.
   */
  static largeModelInference(tag: string): ModelImage {
    return generativeImage('lmi', tag);
  }

  /**
   * Hugging Face Text Generation Inference (`huggingface-pytorch-tgi-inference`), e.g.
   * `'2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04'`, configured by SageMakerEndpoint's `generative` prop.
   */
  static textGenerationInference(tag: string): ModelImage {
    return generativeImage('tgi', tag);
  }

  /** vLLM's SageMaker container (`vllm`), e.g. `'0.11.2-gpu-py312'`, configured by SageMakerEndpoint's `generative` prop. */
  static vllm(tag: string): ModelImage {
    return generativeImage('vllm', tag);
  }

  /** The generative server the image runs, when it is one of the containers above. */
  readonly generativeServer?: GenerativeServer;

  /** Resolves the image for `scope` and lets `grantee` (the model's role) pull it. */
  abstract bind(scope: Construct, grantee: iam.IGrantable): ModelImageConfig;
}

class EcrRepositoryImage extends ModelImage {
  constructor(
    private readonly repository: ecr.IRepository,
    private readonly tagOrDigest: string,
  ) {
    super();
  }
  bind(_scope: Construct, grantee: iam.IGrantable): ModelImageConfig {
    this.repository.grantPull(grantee);
    return { imageUri: this.repository.repositoryUriForTagOrDigest(this.tagOrDigest) };
  }
}

class AssetImage extends ModelImage {
  private asset?: ecrAssets.DockerImageAsset;
  constructor(
    private readonly directory: string,
    private readonly options: Omit<ecrAssets.DockerImageAssetProps, 'directory'>,
  ) {
    super();
  }
  bind(scope: Construct, grantee: iam.IGrantable): ModelImageConfig {
    // One asset per image, however many models use it.
    this.asset ??= new ecrAssets.DockerImageAsset(scope, 'ModelImage', {
      platform: ecrAssets.Platform.LINUX_AMD64,
      ...this.options,
      directory: this.directory,
    });
    this.asset.repository.grantPull(grantee);
    return { imageUri: this.asset.imageUri };
  }
}

class DeepLearningContainerImage extends ModelImage {
  constructor(
    private readonly repositoryName: string,
    private readonly tag: string,
    override readonly generativeServer?: GenerativeServer,
  ) {
    super();
  }
  bind(scope: Construct, grantee: iam.IGrantable): ModelImageConfig {
    const stack = Stack.of(scope);
    const account = dlcRegistryAccount(stack);
    const region = stack.region;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      resourceArns: [`arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${this.repositoryName}`],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
    return { imageUri: `${account}.dkr.ecr.${region}.${stack.urlSuffix}/${this.repositoryName}:${this.tag}` };
  }
}

function generativeImage(server: GenerativeServer, tag: string): ModelImage {
  if (!IMAGE_TAG.test(tag)) throw new ModelsweepError('invalid-prop', `tag must be an image tag like "0.11.2-gpu-py312", got "${tag}"`);
  return new DeepLearningContainerImage(GENERATIVE_SERVERS[server].repository, tag, server);
}

function dlcRegistryAccount(stack: Stack): string {
  if (!Token.isUnresolved(stack.region)) {
    const account = DLC_REGISTRY_ACCOUNTS[stack.region];
    if (!account) {
      throw new ModelsweepError(
        'invalid-prop',
        `image: no AWS Deep Learning Container registry is known for region ${stack.region}; ` +
          `known regions: ${Object.keys(DLC_REGISTRY_ACCOUNTS).join(', ')}. Use ModelImage.fromEcrRepository instead.`,
      );
    }
    return account;
  }
  const id = 'ModelsweepDlcRegistries';
  const mapping =
    (stack.node.tryFindChild(id) as CfnMapping | undefined) ??
    new CfnMapping(stack, id, {
      mapping: Object.fromEntries(Object.entries(DLC_REGISTRY_ACCOUNTS).map(([region, acct]) => [region, { account: acct }])),
    });
  return mapping.findInMap(Aws.REGION, 'account');
}
