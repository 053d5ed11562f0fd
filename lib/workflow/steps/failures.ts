import { CandidateError } from '../../targets/adapter';

/** Error names the workflow's Catch sees: whether a candidate could not run at all, or failed. */
export const CANDIDATE_UNAVAILABLE = 'CandidateUnavailable';
export const CANDIDATE_FAILED = 'CandidateFailed';

/**
 * Step Functions sees an error by its name: a CandidateError leaves as CandidateUnavailable or
 * CandidateFailed, so the failure path can record the right status.
 */
export function nameForStepFunctions(error: unknown): unknown {
  if (!(error instanceof CandidateError)) return error;
  const renamed = new Error(error.message, { cause: error });
  renamed.name = error.status === 'unavailable' ? CANDIDATE_UNAVAILABLE : CANDIDATE_FAILED;
  return renamed;
}

/** A failure's message: Lambda's Cause is JSON ({"errorMessage": …}); a local one is the message itself. */
export function failureReason(error: { Error: string; Cause?: string }): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  // Errors modelsweep raised on purpose say what happened in their message; their name adds nothing.
  if (error.Error === CANDIDATE_FAILED || error.Error === CANDIDATE_UNAVAILABLE || error.Error === 'ModelsweepError') return cause || 'failed';
  return cause ? `${error.Error}: ${cause}` : error.Error;
}
