import { describe, expect, it } from 'vitest';

describe('test setup', () => {
  it('forces fake credentials and loopback endpoints so no test can reach a cloud', () => {
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(new URL(process.env.AWS_ENDPOINT_URL!).hostname).toBe('127.0.0.1');
    expect(new URL(process.env.AZURE_AUTHORITY_HOST!).hostname).toBe('127.0.0.1');
    expect(process.env.AWS_PROFILE).toBeUndefined();
    expect(process.env.AWS_EC2_METADATA_DISABLED).toBe('true');
  });
});
