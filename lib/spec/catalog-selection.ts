import { findAzureSku } from '../catalog/azure-skus';
import { findSageMakerInstance, type HardwareFacts } from '../catalog/sagemaker-instances';
import { formatUsd } from '../format/format';
import { regionOf } from './expand';
import type { InstanceSelection, SkuSelection, SweepSpec } from './schema';

/**
 * The prices a selection picks from: what is priced in a region, and at what on-demand rate. The
 * sweep's PriceBook (lib/cost) is one, with the spec's own `pricing.prices` on it.
 */
export interface CatalogPrices {
  typesPricedIn(catalog: 'sagemaker-realtime' | 'azureml', region: string): string[];
  instanceHour(catalog: 'sagemaker-realtime' | 'azureml', region: string, type: string): { readonly onDemandUsd: number };
}

/** What an image runs on: its architecture and the accelerator it needs, if any, and how that was read. */
export interface ImagePlatform {
  readonly architecture: 'x86_64' | 'arm64';
  /** `nvidia-gpu` / `aws-inferentia`: it needs one; `none`: a CPU image; undefined: it does not say. */
  readonly accelerator?: 'nvidia-gpu' | 'aws-inferentia' | 'none';
  readonly why: string;
}

/**
 * What a container image can run on, read from its repository and tag as AWS's Deep Learning
 * Containers name them (`pytorch-inference:2.1-gpu-py310-cu118`, `…-inference-neuronx`,
 * `…-inference-graviton`, `…-cpu-py310`). An image that says nothing is taken as x86_64, able to
 * use a GPU or not (a custom CUDA image often says nothing), but not Inferentia, which needs Neuron.
 */
export function imagePlatform(image: string): ImagePlatform {
  const name = image.slice(image.indexOf('/') + 1).toLowerCase();
  const architecture = /graviton|arm64|aarch64/.test(name) ? 'arm64' : 'x86_64';
  const arch = architecture === 'arm64' ? 'Graviton (arm64)' : 'x86_64';
  if (/neuron|inferentia/.test(name)) return { architecture, accelerator: 'aws-inferentia', why: `a Neuron image: Inferentia, ${arch}` };
  if (/(^|[^a-z])(gpu|cuda)|cu1\d\d/.test(name)) return { architecture, accelerator: 'nvidia-gpu', why: `a CUDA image: an NVIDIA GPU, ${arch}` };
  if (/(^|[^a-z])cpu/.test(name)) return { architecture, accelerator: 'none', why: `a CPU image: no accelerator, ${arch}` };
  return {
    architecture,
    why: `its tag names no accelerator: ${arch}, with or without a GPU${architecture === 'x86_64' ? ' (graviton, arm64 or aarch64 in it would mean arm64)' : ''}`,
  };
}

/** One type a selection chose, with its on-demand hourly price in the candidate's region. */
export interface SelectedType {
  readonly name: string;
  readonly usdPerHour: number;
  readonly facts: HardwareFacts;
}

/** What a group's selection expanded to, for `modelsweep validate` and the sweep's record. */
export interface GroupSelection {
  readonly group: number;
  readonly field: 'instanceTypes' | 'skus';
  readonly region: string;
  readonly types: readonly SelectedType[];
  /** Priced in the region, but left out: the catalog has no hardware facts for them. */
  readonly unknown: readonly string[];
}

/** A selection that matched nothing, or could not be made: where, and why. */
export interface SelectionProblem {
  readonly path: Array<string | number>;
  readonly message: string;
}

/** One filter of a selection: its name as the spec writes it, and whether a type passes. */
interface Filter {
  readonly label: string;
  readonly keep: (name: string, facts: HardwareFacts, usdPerHour: number) => boolean;
}

const familyOf = (type: string) => type.split('.')[1] ?? '';
const sizeOf = (type: string) => type.split('.')[2] ?? '';
const gpuMemory = (f: HardwareFacts) => (f.accelerator?.kind === 'nvidia-gpu' ? f.accelerator.memoryGiB : 0);

function constraintFilters(c: SkuSelection): Filter[] {
  const filters: Filter[] = [];
  if (c.minVcpus !== undefined) filters.push({ label: `minVcpus ${c.minVcpus}`, keep: (_, f) => f.vcpus >= c.minVcpus! });
  if (c.minMemoryGiB !== undefined) filters.push({ label: `minMemoryGiB ${c.minMemoryGiB}`, keep: (_, f) => f.memoryGiB >= c.minMemoryGiB! });
  if (c.maxPricePerHour !== undefined)
    filters.push({ label: `maxPricePerHour ${formatUsd(c.maxPricePerHour)}`, keep: (_n, _f, usd) => usd <= c.maxPricePerHour! });
  if (c.gpu === 'required') filters.push({ label: 'gpu required', keep: (_, f) => f.accelerator?.kind === 'nvidia-gpu' });
  if (c.gpu === 'none') filters.push({ label: 'gpu none', keep: (_, f) => f.accelerator === undefined });
  if (c.minGpuMemoryGiB !== undefined)
    filters.push({ label: `minGpuMemoryGiB ${c.minGpuMemoryGiB}`, keep: (_, f) => gpuMemory(f) >= c.minGpuMemoryGiB! });
  return filters;
}

/** The filters of a SageMaker selection, the image's own last (so an error names what the user asked first). */
function instanceFilters(s: InstanceSelection, image: ImagePlatform): Filter[] {
  const filters: Filter[] = [];
  if (s.families) filters.push({ label: `families ${s.families.join(', ')}`, keep: (n) => s.families!.includes(familyOf(n)) });
  if (s.sizes) filters.push({ label: `sizes ${s.sizes.join(', ')}`, keep: (n) => s.sizes!.includes(sizeOf(n)) });
  // Burstable CPU credits mislead a benchmark: only a family named outright brings them in.
  filters.push({
    label: 'not burstable (name a T family to include it)',
    keep: (n, f) => !f.burstable || (s.families?.includes(familyOf(n)) ?? false),
  });
  filters.push(...constraintFilters(s));
  if (s.architecture) filters.push({ label: `architecture ${s.architecture}`, keep: (_, f) => f.architecture === s.architecture });
  filters.push({ label: `what the image runs on (${image.why})`, keep: (_, f) => runsImage(f, image) });
  return filters;
}

function runsImage(facts: HardwareFacts, image: ImagePlatform): boolean {
  if (facts.architecture !== image.architecture) return false;
  const kind = facts.accelerator?.kind;
  if (image.accelerator === 'aws-inferentia') return kind === 'aws-inferentia';
  if (image.accelerator === 'nvidia-gpu') return kind === 'nvidia-gpu';
  if (image.accelerator === 'none') return kind === undefined;
  return kind !== 'aws-inferentia';
}

/**
 * The types of a selection: priced in `region`, known to the hardware catalog, passing every
 * filter; cheapest first (ties by name). With none, a problem that says how many each filter left.
 */
function choose(
  priced: readonly string[],
  factsOf: (name: string) => HardwareFacts | undefined,
  priceOf: (name: string) => number,
  filters: readonly Filter[],
  where: string,
): { types: SelectedType[]; unknown: string[]; problem?: string } {
  const unknown = priced.filter((n) => !factsOf(n)).sort();
  let remaining = priced.flatMap((name) => {
    const facts = factsOf(name);
    return facts ? [{ name, facts, usdPerHour: priceOf(name) }] : [];
  });
  const trail = [`${remaining.length} ${where}`];
  for (const filter of filters) {
    remaining = remaining.filter((t) => filter.keep(t.name, t.facts, t.usdPerHour));
    trail.push(`${remaining.length} after ${filter.label}`);
    if (remaining.length === 0) break;
  }
  const types = remaining.sort((a, b) => a.usdPerHour - b.usdPerHour || a.name.localeCompare(b.name));
  if (types.length > 0) return { types, unknown };
  const missing =
    unknown.length > 0
      ? `; ${unknown.length} more priced there have no hardware facts in the catalog (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''})`
      : '';
  return { types, unknown, problem: `selects nothing: ${trail.join(', ')}${missing}; loosen the selection, or fetch more prices` };
}

/**
 * Replaces each catalog selection (`instanceTypes: { families, … }`, `skus: { … }`) with the types
 * it selects, so that the rest of the sweep sees plain lists. `prices` is the book the sweep prices
 * with (the spec's own `pricing.prices` already on it): a selection picks only what it can price.
 * Without prices, a selection is a problem for its field.
 */
export function resolveCatalogSelections(
  spec: SweepSpec,
  pricesOf: () => CatalogPrices | undefined,
): { spec: SweepSpec; selections: GroupSelection[]; problems: SelectionProblem[] } {
  const selections: GroupSelection[] = [];
  const problems: SelectionProblem[] = [];
  // Read only where a selection needs them: a spec of plain lists never opens the price cache.
  let prices: CatalogPrices | undefined;
  let read = false;
  const pricesNow = () => (read ? prices : ((read = true), (prices = pricesOf())));
  const unpriced = (g: number, field: string) =>
    problems.push({ path: ['candidates', g, field], message: 'a catalog selection needs the price catalog to pick from; list the types instead' });
  const candidates = spec.candidates.map((group, g) => {
    if (group.kind === 'sagemaker-realtime' && !Array.isArray(group.instanceTypes)) {
      const prices = pricesNow();
      if (!prices) {
        unpriced(g, 'instanceTypes');
        return { ...group, instanceTypes: [] };
      }
      const region = regionOf(group);
      const priced = prices.typesPricedIn('sagemaker-realtime', region);
      const price = (type: string) => prices.instanceHour('sagemaker-realtime', region, type).onDemandUsd;
      const chosen = choose(
        priced,
        findSageMakerInstance,
        price,
        instanceFilters(group.instanceTypes, imagePlatform(group.image)),
        `SageMaker instance types priced in ${region}`,
      );
      if (chosen.problem) problems.push({ path: ['candidates', g, 'instanceTypes'], message: chosen.problem });
      selections.push({ group: g, field: 'instanceTypes', region, types: chosen.types, unknown: chosen.unknown });
      return { ...group, instanceTypes: chosen.types.map((t) => t.name) };
    }
    if (group.kind === 'azureml' && !Array.isArray(group.skus)) {
      const prices = pricesNow();
      if (!prices) {
        unpriced(g, 'skus');
        return { ...group, skus: [] };
      }
      if (!group.location) {
        problems.push({
          path: ['candidates', g, 'location'],
          message: 'a selection over skus needs location: the region whose prices it selects from',
        });
        return { ...group, skus: [] };
      }
      const region = group.location;
      const priced = prices.typesPricedIn('azureml', region);
      const chosen = choose(
        priced,
        findAzureSku,
        (sku) => prices.instanceHour('azureml', region, sku).onDemandUsd,
        constraintFilters(group.skus),
        `Azure ML SKUs priced in ${region}`,
      );
      if (chosen.problem) problems.push({ path: ['candidates', g, 'skus'], message: chosen.problem });
      selections.push({ group: g, field: 'skus', region, types: chosen.types, unknown: chosen.unknown });
      return { ...group, skus: chosen.types.map((t) => t.name) };
    }
    return group;
  });
  return { spec: { ...spec, candidates }, selections, problems };
}
