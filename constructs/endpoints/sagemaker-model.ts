import { Aws, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

import type { ModelData } from './model-data';
import type { ModelImage } from './model-image';
import { InvalidPropError } from './validation';

/** Props shared by the SageMaker endpoint constructs for the model they serve. */
export interface SageMakerModelOptions {
  /** The container image that serves the model. */
  readonly image: ModelImage;
  /**
   * The model's artifacts, mounted at `/opt/ml/model`.
   * @default - none: the image carries the model
   */
  readonly modelData?: ModelData;
  /**
   * Environment variables of the container (at most 100).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * The execution role SageMaker assumes to pull the image, read the model data and write logs.
   * @default - a role with exactly those permissions
   */
  readonly role?: iam.IRole;
}

export interface SageMakerModelProps extends SageMakerModelOptions {
  readonly networkIsolation?: boolean;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$/;

/** The SageMaker model (container + role) behind an endpoint. Internal to the endpoint constructs. */
export class SageMakerModel extends Construct {
  readonly model: sagemaker.CfnModel;
  readonly role: iam.IRole;
  readonly securityGroups: ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: SageMakerModelProps) {
    super(scope, id);
    checkEnvironment(scope, props.environment);
    this.role = props.role ?? this.createRole();
    const image = props.image.bind(this, this.role);
    const data = props.modelData?.bind(this, this.role);

    this.securityGroups = [];
    let vpcConfig: sagemaker.CfnModel.VpcConfigProperty | undefined;
    if (props.vpc) {
      this.securityGroups = props.securityGroups ?? [
        new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: `${this.node.path} model containers` }),
      ];
      const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      vpcConfig = { subnets: subnets.subnetIds, securityGroupIds: this.securityGroups.map((sg) => sg.securityGroupId) };
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resourceArns: ['*'],
      });
    } else if (props.securityGroups || props.vpcSubnets) {
      throw new InvalidPropError(scope, props.securityGroups ? 'securityGroups' : 'vpcSubnets', 'needs vpc to be set');
    }

    this.model = new sagemaker.CfnModel(this, 'Resource', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: {
        image: image.imageUri,
        modelDataUrl: data?.modelDataUrl,
        modelDataSource: data?.modelDataSource,
        environment: props.environment,
      },
      enableNetworkIsolation: props.networkIsolation,
      vpcConfig,
    });
    // SageMaker checks the role can pull the image when the model is created, so its policy must exist first.
    this.model.node.addDependency(this.role);
  }

  private createRole(): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Execution role of the SageMaker model ${this.node.path}`,
    });
    const endpointLogs = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/*`;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [endpointLogs],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
      }),
    );
    // The wildcards below are what SageMaker's execution role needs; reasoned for cdk-nag here,
    // once, so that every app using these constructs does not have to.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only actions that IAM supports on no narrower resource get "*": ecr:GetAuthorizationToken (to pull the model image), ' +
        'cloudwatch:PutMetricData (limited by a condition to SageMaker namespaces) and, in a VPC, the EC2 network-interface actions SageMaker needs to attach the containers.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/*]',
      reason: "SageMaker names each endpoint's log group and streams at run time; the role is limited to the /aws/sagemaker/Endpoints/ log groups.",
    });
    return role;
  }
}

function checkEnvironment(scope: Construct, environment: Record<string, string> | undefined): void {
  if (!environment) return;
  const names = Object.keys(environment);
  if (names.length > 100) throw new InvalidPropError(scope, 'environment', `may hold at most 100 variables, got ${names.length}`);
  const bad = names.find((name) => !Token.isUnresolved(name) && !ENV_NAME.test(name));
  if (bad !== undefined) {
    throw new InvalidPropError(scope, `environment.${bad}`, 'is not a valid variable name: use letters, digits and _, not starting with a digit');
  }
}
