import { describe, expect, it } from 'vitest';

import { CliError, EXIT, exitCodeOf } from '../../bin/commands/cli-error';
import { CandidateError, hasCode, ModelsweepError, SetupError } from '../../lib/errors';
import { ModelServerError } from '../../lib/model-server/errors';
import { SpecError } from '../../lib/spec/load-spec';
import { BlobNotFound } from '../../lib/workflow/blob-store';
import { InvalidStepInput } from '../../lib/workflow/events';

describe('one error base', () => {
  it('every error modelsweep raises on purpose carries a stable code', () => {
    const errors: Array<[ModelsweepError<string>, string]> = [
      [new SpecError('spec.yaml', [{ path: 'slo', message: 'is required' }]), 'invalid-spec'],
      [new InvalidStepInput('Deploy candidate: candidate: required'), 'invalid-input'],
      [new SetupError('no AWS region'), 'setup'],
      [new CandidateError('unavailable', 'quota'), 'candidate-unavailable'],
      [new CandidateError('failed', 'timed out'), 'candidate-failed'],
      [new BlobNotFound('s3://b/k'), 'not-found'],
      [new ModelServerError('BadRequest', 'not JSON'), 'BadRequest'],
      [new CliError('--rate: must be above 0'), 'invalid-input'],
    ];
    for (const [error, code] of errors) {
      expect(error, error.name).toBeInstanceOf(ModelsweepError);
      expect(error.code, error.name).toBe(code);
    }
    expect(hasCode(new SetupError('x'), 'setup', 'invalid-spec')).toBe(true);
    expect(hasCode(new Error('x'), 'setup')).toBe(false);
  });

  it('a wrapping error keeps what it wraps as its cause', () => {
    const original = new Error('ENOENT');
    expect(new CandidateError('failed', 'cannot reach it', { cause: original }).cause).toBe(original);
    expect(new CliError('--body-file: cannot read it', EXIT.badInput, { cause: original }).cause).toBe(original);
  });

  it('the CLI maps codes to exit codes: bad input 2, interrupted 130, anything else 1', () => {
    expect(exitCodeOf(new SpecError('spec.yaml', []))).toBe(EXIT.badInput);
    expect(exitCodeOf(new SetupError('no credentials'))).toBe(EXIT.badInput);
    expect(exitCodeOf(new ModelsweepError('interrupted', 'stopped'))).toBe(EXIT.interrupted);
    expect(exitCodeOf(new ModelsweepError('teardown-incomplete', 'left an endpoint'))).toBe(EXIT.failed);
    expect(exitCodeOf(new CandidateError('failed', 'x'))).toBe(EXIT.failed);
    expect(exitCodeOf(new CliError('the sweep failed', EXIT.failed))).toBe(EXIT.failed);
    expect(exitCodeOf(new TypeError('a bug'))).toBe(EXIT.failed);
  });
});
