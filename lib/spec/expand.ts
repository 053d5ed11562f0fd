import type { CandidateGroup, SweepSpec } from './schema';

interface CandidateBase {
  /** Stable across runs of the same spec: derived from the configuration, not the order. */
  readonly id: string;
  /** Index of the group in the spec's `candidates` list. */
  readonly group: number;
  readonly environment: Readonly<Record<string, string>>;
}

/** One concrete configuration to deploy and measure. */
export type Candidate = CandidateBase &
  (
    | { readonly kind: 'sagemaker-realtime'; readonly instanceType: string; readonly instanceCount: number; readonly image?: string; readonly modelDataUrl?: string }
    | { readonly kind: 'sagemaker-serverless'; readonly memorySizeMb: number; readonly maxConcurrency: number; readonly provisionedConcurrency: number; readonly image?: string; readonly modelDataUrl?: string }
    | { readonly kind: 'lambda'; readonly functionName: string; readonly memorySizeMb: number; readonly architecture: 'arm64' | 'x86_64' }
    | { readonly kind: 'azureml'; readonly endpointName: string; readonly sku: string; readonly instanceCount: number }
    | { readonly kind: 'http'; readonly url: string; readonly costPerHour: number; readonly headers: Readonly<Record<string, string>> }
    | { readonly kind: 'local'; readonly threads: number; readonly modelPath?: string; readonly costPerHour: number }
  );

/** Every combination of the values in `lists`, in order (the last list varies fastest). */
function grid<T extends Record<string, readonly unknown[]>>(lists: T): Array<{ [K in keyof T]: T[K][number] }> {
  return Object.entries(lists).reduce<Array<Record<string, unknown>>>(
    (combos, [key, values]) => combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value }))),
    [{}],
  ) as Array<{ [K in keyof T]: T[K][number] }>;
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '');

/** The concrete candidates of one group of the spec. */
export function expandGroup(group: CandidateGroup, index: number): Candidate[] {
  const base = (suffix: string) => ({ id: `${group.name ?? group.kind}-${suffix}`, group: index, environment: group.environment ?? {} });
  switch (group.kind) {
    case 'sagemaker-realtime':
      return grid({ instanceType: group.instanceTypes, instanceCount: group.instanceCounts }).map((c) => ({
        ...base(`${c.instanceType}-x${c.instanceCount}`),
        kind: group.kind,
        ...c,
        ...(group.image ? { image: group.image } : {}),
        ...(group.modelDataUrl ? { modelDataUrl: group.modelDataUrl } : {}),
      }));
    case 'sagemaker-serverless':
      return grid({ memorySizeMb: group.memorySizesMb, maxConcurrency: group.maxConcurrency, provisionedConcurrency: group.provisionedConcurrency }).map((c) => ({
        ...base(`${c.memorySizeMb}mb-c${c.maxConcurrency}${c.provisionedConcurrency ? `-p${c.provisionedConcurrency}` : ''}`),
        kind: group.kind,
        ...c,
        ...(group.image ? { image: group.image } : {}),
        ...(group.modelDataUrl ? { modelDataUrl: group.modelDataUrl } : {}),
      }));
    case 'lambda':
      return grid({ memorySizeMb: group.memorySizesMb, architecture: group.architectures }).map((c) => ({
        ...base(`${c.memorySizeMb}mb-${c.architecture}`),
        kind: group.kind,
        functionName: group.functionName,
        ...c,
      }));
    case 'azureml':
      return grid({ sku: group.skus, instanceCount: group.instanceCounts }).map((c) => ({
        ...base(`${slug(c.sku)}-x${c.instanceCount}`),
        kind: group.kind,
        endpointName: group.endpointName,
        ...c,
      }));
    case 'http': {
      const url = new URL(group.url);
      const id = group.name ?? `http-${slug(`${url.hostname}-${url.port || url.protocol.replace(':', '')}${url.pathname}`)}`;
      return [{ id, group: index, environment: group.environment ?? {}, kind: group.kind, url: group.url, costPerHour: group.costPerHour, headers: group.headers ?? {} }];
    }
    case 'local':
      return group.threads.map((threads) => ({
        ...base(`threads${threads}`),
        kind: group.kind,
        threads,
        costPerHour: group.costPerHour,
        ...(group.modelPath ? { modelPath: group.modelPath } : {}),
      }));
  }
}

/** All concrete candidates of a spec, list-valued fields expanded as a grid. */
export function expandCandidates(spec: Pick<SweepSpec, 'candidates'>): Candidate[] {
  return spec.candidates.flatMap((group, index) => expandGroup(group, index));
}
