import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';

/** A test app that references asset folders where they are instead of copying them per synth. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:disable-asset-staging': true, 'aws:cdk:enable-asset-metadata': true } });
}

/** A stack in a fixed account and region (or region-agnostic with `env: undefined`). */
export function testStack(props: StackProps = { env: { account: '123456789012', region: 'us-east-1' } }): Stack {
  return new Stack(testApp(), 'TestStack', props);
}

export const templateOf = (stack: Stack) => Template.fromStack(stack);

/** The warning texts that synthesis attached to the stack. */
export function warningsOf(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((w) => String(w.entry.data));
}

/** All IAM policy statements in the template, flattened. */
export function policyStatements(template: Template): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy: any) => policy.Properties.PolicyDocument.Statement,
  );
}
