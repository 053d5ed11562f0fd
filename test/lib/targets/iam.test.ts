import { describe, expect, it } from 'vitest';

import { azureMlRoleDefinition } from '../../../lib/targets/azureml-target';
import { lambdaIamStatements, sageMakerIamStatements } from '../../../lib/targets/cloud/iam';

describe('IAM statements the adapters export', () => {
  it('scope SageMaker lifecycle actions to the ms-* names sweeps give their resources', () => {
    const [lifecycle, ...rest] = sageMakerIamStatements('123456789012', 'eu-west-1');
    expect(lifecycle.Resource).toEqual([
      'arn:aws:sagemaker:eu-west-1:123456789012:model/ms-*',
      'arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/ms-*',
      'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ms-*',
      'arn:aws:sagemaker:eu-west-1:123456789012:transform-job/ms-*',
    ]);
    expect(lifecycle.Action).toEqual(
      expect.arrayContaining(['sagemaker:DeleteEndpoint', 'sagemaker:CreateTransformJob', 'sagemaker:StopTransformJob']),
    );
    const passRole = rest.find((s) => s.Action.includes('iam:PassRole'))!;
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    // Only listing and metrics, which cannot be scoped, use "*".
    for (const s of rest.filter((s) => s.Resource.includes('*'))) expect(s.Action.every((a) => /:(List|GetMetricData|PassRole)/.test(a))).toBe(true);
  });

  it('scope Lambda actions to the named functions and their versions and aliases', () => {
    const [candidates, list] = lambdaIamStatements(['scorer'], '123456789012', 'us-east-1');
    expect(candidates.Resource).toEqual([
      'arn:aws:lambda:us-east-1:123456789012:function:scorer',
      'arn:aws:lambda:us-east-1:123456789012:function:scorer:*',
    ]);
    expect(candidates.Action).toEqual(
      expect.arrayContaining(['lambda:PublishVersion', 'lambda:CreateAlias', 'lambda:InvokeFunction', 'lambda:UpdateFunctionConfiguration']),
    );
    expect(list).toMatchObject({ Action: ['lambda:ListFunctions'], Resource: ['*'] });
  });

  it('scope the Azure ML role to the workspace, with scoring as a data action', () => {
    const role = azureMlRoleDefinition({ subscriptionId: 'sub', resourceGroup: 'ml-rg', workspace: 'ml-ws' });
    expect(role.AssignableScopes).toEqual(['/subscriptions/sub/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws']);
    expect(role.Actions).toEqual(
      expect.arrayContaining([
        'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write',
        'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action',
      ]),
    );
    expect(role.DataActions).toEqual(['Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action']);
  });
});
