#!/usr/bin/env node
/**
 * The modelsweep example app: the demo model on Lambda, on a SageMaker serverless endpoint and
 * on a SageMaker GPU endpoint, and the BenchmarkSweep workflow. `npx cdk synth` prints all four; every synth is checked by
 * cdk-nag's AwsSolutions rules, so a finding without a reasoned acknowledgement fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { DemoGpuStack, DemoLambdaStack, DemoServerlessStack, SweepStack } from './demo-stacks';

const app = new App();
// Region-agnostic unless the CLI knows an account and region: synth needs no credentials.
const env = process.env.CDK_DEFAULT_REGION ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined;

new DemoLambdaStack(app, 'ModelsweepDemoLambda', { env });
new DemoServerlessStack(app, 'ModelsweepDemoServerless', { env });
new DemoGpuStack(app, 'ModelsweepDemoGpu', { env });
new SweepStack(app, 'ModelsweepSweep', { env });

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
