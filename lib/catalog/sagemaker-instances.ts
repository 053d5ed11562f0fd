import { z } from 'zod';

import catalogJson from './sagemaker-instances.json';

const acceleratorSchema = z.strictObject({
  kind: z.enum(['nvidia-gpu', 'aws-inferentia']),
  name: z.string().min(1),
  count: z.number().int().positive(),
  /** Accelerator memory across all accelerators of the instance. */
  memoryGiB: z.number().positive(),
});

/** What an instance type or VM SKU is: its cores, memory, architecture and accelerators. */
export const hardwareFactsSchema = z.strictObject({
  vcpus: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  architecture: z.enum(['x86_64', 'arm64']),
  accelerator: acceleratorSchema.optional(),
  /** NVMe instance storage: such instances take no EBS volume size and no volume KMS key. */
  localNvmeStorageGb: z.number().int().positive().optional(),
  /** Burstable (T-family) CPU credits: fine for a demo, misleading for a benchmark. */
  burstable: z.boolean().optional(),
});

export const instanceCatalogSchema = z.strictObject({
  source: z.string().min(1),
  note: z.string().optional(),
  instances: z.record(z.string(), hardwareFactsSchema),
});

export type HardwareFacts = z.infer<typeof hardwareFactsSchema>;
export type SageMakerInstanceInfo = HardwareFacts & { readonly name: string };

const catalog = instanceCatalogSchema.parse(catalogJson);

/**
 * The shape of a SageMaker hosting instance type: `ml.<family>.<size>`, e.g. `ml.g5.xlarge`,
 * `ml.inf2.24xlarge`, `ml.m5d.large`.
 */
export const SAGEMAKER_INSTANCE_TYPE_PATTERN = /^ml\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[0-9]+xl)?)$/;

/** True when `name` is shaped like a SageMaker instance type (it may still be unknown to the catalog). */
export function isWellFormedInstanceType(name: string): boolean {
  return SAGEMAKER_INSTANCE_TYPE_PATTERN.test(name);
}

/** The catalog's metadata for an instance type, or undefined when the catalog does not list it. */
export function findSageMakerInstance(name: string): SageMakerInstanceInfo | undefined {
  const info = catalog.instances[name];
  return info ? { name, ...info } : undefined;
}

/**
 * The processor family of an instance type: types whose serving capacity per unit (vCPU, or
 * accelerator) is alike, the size aside. A CPU type's is its generation and processor: c5, m5 and
 * r5 run the same Xeon generation (`5`), c6i, m6i and r6i the same Ice Lake (`6i`), c7g and m7g
 * the same Graviton3 (`7g`); the class letter sets only memory per vCPU (and clock, within ~15%),
 * `d` adds local disk and `n` network. An accelerated type's is its family (g5: one GPU model).
 */
export function processorFamily(name: string): string | undefined {
  const family = name.split('.')[1];
  if (!family) return undefined;
  if (findSageMakerInstance(name)?.accelerator) return family;
  const cpu = /^[cmr](\d+)([a-z]*?)(?:dn|d|n)?$/.exec(family);
  return cpu ? `${cpu[1]}${cpu[2]}` : family;
}

/** Every instance type in the catalog, e.g. for a sweep over "all GPU types". */
export function listSageMakerInstances(): SageMakerInstanceInfo[] {
  return Object.entries(catalog.instances).map(([name, info]) => ({ name, ...info }));
}

/** Where the catalog's facts come from. */
export const INSTANCE_CATALOG_SOURCE = catalog.source;
