import { payloadsOf } from '../runner/plan';
import type { LoadedSpec } from '../spec/load-spec';
import type { PayloadRef } from '../store/results-store';
import type { BlobStore } from './blob-store';

/** A spec with its payloads staged in a blob store: what a workflow execution starts from. */
export interface StagedSpec {
  /** The spec file's text, validated again by the workflow exactly as the CLI validated it. */
  readonly text: string;
  readonly file: string;
  /** The spec file's folder, for local candidates' model paths. */
  readonly baseDir: string;
  readonly payloads: PayloadRef[];
}

/**
 * Puts the spec and each payload's body under `prefix` in the blob store, so the workflow needs
 * neither the spec file nor its folder. Returns the staged spec's key.
 */
export async function stageSpec(loaded: LoadedSpec, blobs: BlobStore, prefix: string): Promise<string> {
  const payloads = payloadsOf(loaded.spec, loaded.baseDir);
  const refs: PayloadRef[] = [];
  for (const [i, p] of payloads.entries()) {
    const key = `${prefix}/payloads/${i}`;
    await blobs.put(key, p.body, p.contentType);
    refs.push({ key, name: p.name ?? `payloads[${i}]`, contentType: p.contentType, ...(p.weight !== undefined ? { weight: p.weight } : {}) });
  }
  const specKey = `${prefix}/spec.json`;
  const staged: StagedSpec = { ...loaded.source, baseDir: loaded.baseDir, payloads: refs };
  await blobs.put(specKey, JSON.stringify(staged), 'application/json');
  return specKey;
}
