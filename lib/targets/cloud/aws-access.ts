import { SetupError } from '../../errors';

interface AwsClientConfig {
  readonly config: { region: () => Promise<string>; credentials: () => Promise<unknown> };
}

/**
 * Resolves an SDK client's region and credentials without calling the service, so a sweep with
 * no AWS access stops before it creates anything, saying what to set.
 */
export async function checkAwsAccess(
  client: AwsClientConfig,
  what: string,
  setRegion = 'set "region" on the candidate group, or AWS_REGION',
): Promise<string> {
  const region = await client.config.region().catch(() => '');
  if (!region) throw new SetupError(`${what}: no AWS region; ${setRegion}`);
  try {
    await client.config.credentials();
  } catch (error) {
    throw new SetupError(
      `${what}: no AWS credentials (${(error as Error).message.split('\n')[0]}); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is available`,
      { cause: error },
    );
  }
  return region;
}

/** The region a candidate runs in, for prices: its own, else the environment's. */
export { regionOf } from '../../spec/expand';
