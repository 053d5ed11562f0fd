import { Annotations, Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

import { findSageMakerInstance, isWellFormedInstanceType } from '../../lib/catalog/sagemaker-instances';
import { ModelsweepError } from '../../lib/errors';

/**
 * An invalid construct prop. The message starts with the prop's name, says what is wrong and
 * what is allowed, so `cdk synth` fails with something a user can act on.
 */
export class InvalidPropError extends ModelsweepError {
  constructor(
    scope: IConstruct,
    readonly prop: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super('invalid-prop', `${prop} ${problem} (in ${scope.node.path})`, options);
    this.name = 'InvalidPropError';
  }
}

/** Checks an integer prop is within [min, max] (max may be Infinity); tokens are left to CloudFormation. */
export function checkInteger(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const allowed = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidPropError(scope, prop, `must be an integer ${allowed}, got ${value}`);
  }
}

/** Checks a number prop is within [min, max]. */
export function checkRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InvalidPropError(scope, prop, `must be from ${min} to ${max}, got ${value}`);
  }
}

/** Checks a duration prop is a whole number of seconds within [min, max] seconds. */
export function checkSeconds(scope: IConstruct, prop: string, value: Duration | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (value.isUnresolved()) return value.toSeconds();
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new InvalidPropError(scope, prop, `must be a whole number of seconds from ${min} to ${max}, got ${value.toHumanString()}`);
  }
  return seconds;
}

/**
 * Checks a size prop is a whole number of `unit` (MB = MiB, GB = GiB, as AWS means them) within
 * [min, max] and, if given, a multiple of `step`. Returns the number of units.
 */
export function checkSize(
  scope: IConstruct,
  prop: string,
  value: Size | undefined,
  unit: 'MB' | 'GB',
  min: number,
  max: number,
  step?: number,
): number | undefined {
  if (value === undefined) return undefined;
  const convert = (rounding: SizeRoundingBehavior) => (unit === 'MB' ? value.toMebibytes({ rounding }) : value.toGibibytes({ rounding }));
  if (value.isUnresolved()) return convert(SizeRoundingBehavior.FAIL);
  const amount = convert(SizeRoundingBehavior.NONE);
  if (!Number.isInteger(amount) || amount < min || amount > max || (step !== undefined && amount % step !== 0)) {
    const stepText = step ? ` in steps of ${step} ${unit}` : '';
    throw new InvalidPropError(scope, prop, `must be a whole number of ${unit} from ${min} to ${max}${stepText}, got ${+amount.toFixed(3)} ${unit}`);
  }
  return amount;
}

/** Checks a SageMaker instance type prop is well formed, and warns when the catalog does not know it. */
export function checkSageMakerInstanceType(scope: IConstruct, prop: string, instanceType: string): void {
  if (Token.isUnresolved(instanceType)) return;
  if (!isWellFormedInstanceType(instanceType))
    throw new InvalidPropError(scope, prop, `must be a SageMaker instance type like ml.g5.xlarge (ml.<family>.<size>), got "${instanceType}"`);
  if (!findSageMakerInstance(instanceType))
    Annotations.of(scope).addWarningV2(
      'modelsweep:unknownInstanceType',
      `${prop} ${instanceType} is not in modelsweep's instance catalog; it is used as given, without hardware checks`,
    );
}
