import { z } from 'zod';

import registriesJson from './dlc-registries.json';

const schema = z.strictObject({
  source: z.string().min(1),
  registries: z.record(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/), z.string().regex(/^\d{12}$/)),
});

const parsed = schema.parse(registriesJson);

/**
 * The AWS account that hosts the Deep Learning Container images (including SageMaker's Triton
 * images) in each region.
 */
export const DLC_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = parsed.registries;

export const DLC_REGISTRY_SOURCE = parsed.source;
