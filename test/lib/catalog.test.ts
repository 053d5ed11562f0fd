import { describe, expect, it } from 'vitest';

import { DLC_REGISTRY_ACCOUNTS } from '../../lib/catalog/dlc-registries';
import { findSageMakerInstance, isWellFormedInstanceType, listSageMakerInstances, processorFamily } from '../../lib/catalog/sagemaker-instances';

describe('SageMaker instance catalog', () => {
  it('describes GPU, Inferentia, Graviton and burstable instances', () => {
    expect(findSageMakerInstance('ml.g5.xlarge')).toMatchObject({
      vcpus: 4,
      memoryGiB: 16,
      accelerator: { kind: 'nvidia-gpu', name: 'NVIDIA A10G', count: 1, memoryGiB: 24 },
      localNvmeStorageGb: 250,
    });
    expect(findSageMakerInstance('ml.inf2.xlarge')?.accelerator).toMatchObject({ kind: 'aws-inferentia', count: 1 });
    expect(findSageMakerInstance('ml.c7g.large')?.architecture).toBe('arm64');
    expect(findSageMakerInstance('ml.t2.medium')?.burstable).toBe(true);
    expect(findSageMakerInstance('ml.m5.large')?.burstable).toBeUndefined();
    expect(findSageMakerInstance('ml.g99.xlarge')).toBeUndefined();
  });

  it('groups CPU types by processor (class letter, local disk and network aside) and accelerated types by family', () => {
    const family = (names: string[]) => names.map(processorFamily);
    expect(family(['ml.c5.large', 'ml.m5.4xlarge', 'ml.r5.xlarge', 'ml.m5d.large', 'ml.c5d.2xlarge'])).toEqual(['5', '5', '5', '5', '5']);
    expect(family(['ml.c6i.large', 'ml.m6i.xlarge', 'ml.c7i.large', 'ml.c6g.large', 'ml.c7g.xlarge'])).toEqual(['6i', '6i', '7i', '6g', '7g']);
    expect(family(['ml.g5.xlarge', 'ml.g5.12xlarge', 'ml.g4dn.xlarge', 'ml.inf2.xlarge', 'ml.t2.medium'])).toEqual([
      'g5',
      'g5',
      'g4dn',
      'inf2',
      't2',
    ]);
  });

  it('names only well-formed instance types', () => {
    const names = listSageMakerInstances().map((i) => i.name);
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => !isWellFormedInstanceType(n))).toEqual([]);
  });

  it.each([
    ['ml.g5.xlarge', true],
    ['ml.inf2.48xlarge', true],
    ['ml.m5d.large', true],
    ['ml.t2.medium', true],
    ['g5.xlarge', false],
    ['ml.g5', false],
    ['ml.G5.xlarge', false],
    ['ml.g5.huge', false],
    ['ml.g5.0xlarge', false],
  ])('tells %s is well-formed: %s', (name, expected) => {
    expect(isWellFormedInstanceType(name)).toBe(expected);
  });

  it('knows the Deep Learning Container registry of every commercial region the SDK lists', () => {
    expect(DLC_REGISTRY_ACCOUNTS['us-east-1']).toBe('763104351884');
    expect(DLC_REGISTRY_ACCOUNTS['ap-east-1']).toBe('871362719292');
    expect(Object.values(DLC_REGISTRY_ACCOUNTS).every((a) => /^\d{12}$/.test(a))).toBe(true);
  });
});
