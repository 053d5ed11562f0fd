import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';

import { MyModelsStack, MyRecommendedModelStack, MySweepStack } from '../../examples/import-constructs';
import { testApp } from '../helpers/cdk';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const ROOT = join(__dirname, '..', '..');

describe('the README example of importing the constructs', () => {
  it('synthesizes a stack with all three endpoint kinds, grants and alarms', () => {
    const stack = new MyModelsStack(testApp(), 'MyModels', { onnxModelPath: DEMO_MODEL_PATH, env: { region: 'us-east-1' } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SageMaker::Endpoint', 2);
    t.resourceCountIs('AWS::Lambda::Url', 1);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    expect(stack.endpoints.map((e) => e.invocation.kind)).toEqual(['sagemaker-realtime', 'sagemaker-serverless', 'lambda']);
  });

  it('synthesizes the weekly sweep of the Lambda function, and the model stack that deploys its recommendation', () => {
    const app = testApp();
    const sweep = Template.fromStack(
      new MySweepStack(app, 'MySweep', { specFile: join(ROOT, 'examples', 'sweeps', 'demo-lambda-weekly.yaml'), env: { region: 'us-east-1' } }),
    );
    sweep.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    sweep.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(7 days)' });

    // No recommendation in the context yet: the defaults the stack gives.
    const model = Template.fromStack(
      new MyRecommendedModelStack(testApp(), 'MyRecommendedModel', { onnxModelPath: DEMO_MODEL_PATH, env: { region: 'us-east-1' } }),
    );
    model.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048, Architectures: ['arm64'] });
  });

  it('is what the docs show, region by region', () => {
    const example = readFileSync(join(ROOT, 'examples', 'import-constructs.ts'), 'utf8');
    const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => join('docs', f))]
      .filter((f) => f.endsWith('.md'))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    const regions = [...example.matchAll(/\/\/ #region ([\w-]+)\n([\s\S]*?)\n\s*\/\/ #endregion \1/g)];
    expect(regions.map((r) => r[1])).toEqual([
      'sagemaker-endpoint',
      'sagemaker-serverless-endpoint',
      'lambda-model-function',
      'model-endpoint',
      'benchmark-sweep',
      'model-recommendation',
    ]);
    const dedent = (code: string) => {
      const lines = code.split('\n');
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      return lines.map((l) => l.slice(indent)).join('\n');
    };
    for (const [, name, body] of regions) {
      expect(docs, `the docs are missing the ${name} example`).toContain(dedent(body));
    }
  });
});
