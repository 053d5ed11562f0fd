/**
 * Runs before every test file: no test can reach AWS or Azure, whatever the machine has
 * configured. Credentials are fake, every SDK endpoint points at a closed loopback port, and
 * shared config files and instance metadata are out of reach.
 */
const LOOPBACK_NOWHERE = 'http://127.0.0.1:9';

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'fake-session-token',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: LOOPBACK_NOWHERE,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000000',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  AZURE_CLIENT_SECRET: 'fake',
  AZURE_AUTHORITY_HOST: LOOPBACK_NOWHERE,
  // Managed identity would otherwise probe the instance metadata service at 169.254.169.254.
  AZURE_POD_IDENTITY_AUTHORITY_HOST: LOOPBACK_NOWHERE,
  CDK_DISABLE_VERSION_CHECK: '1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // Skips aws-cdk-lib's built-in CloudFormation validator (3-4 s a synth); templates are asserted instead.
  CDK_VALIDATION: 'false',
  // Local model servers share every core: a test worker pinned to one core would slow the whole suite (core-placement tests pin on purpose).
  MODELSWEEP_LOCAL_CORES: 'shared',
  // `npm test` runs its two lanes side by side: local phases must not wait for the other lane to quiet down (quiet-check.test.ts waits on purpose).
  MODELSWEEP_QUIET_WAIT: '0',
  // Price lists only from a test's own loopback server, and no user's price cache: a folder that does not exist.
  MODELSWEEP_AWS_PRICING_URL: LOOPBACK_NOWHERE,
  MODELSWEEP_AZURE_PRICES_URL: LOOPBACK_NOWHERE,
  MODELSWEEP_PRICE_CACHE: `${process.env.TMPDIR ?? '/tmp'}/no-price-cache-${process.pid}`,
});
delete process.env.AWS_PROFILE;
delete process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
