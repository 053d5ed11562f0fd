import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * A test app that references asset folders where they are instead of copying them per synth.
 * autoSynth is off: with CDK_OUTDIR set (global-setup) an App would otherwise synthesize again when
 * the worker exits, and one built to fail would throw there, outside any test.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ autoSynth: false, context: { 'aws:cdk:disable-asset-staging': true, 'aws:cdk:enable-asset-metadata': true, ...context } });
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
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
}

/** Synthesizes an app with cdk-nag's AwsSolutions checks, returning its validation report. */
export function synthWithNag(build: (app: App) => void): { error?: Error; report: any } {
  const app = testApp();
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  return { error, report: JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) };
}

export function violations(report: any): string[] {
  return report.pluginReports.flatMap((plugin: any) =>
    plugin.violations.flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} at ${c.constructPath}`)),
  );
}
