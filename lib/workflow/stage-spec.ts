import { basename } from 'node:path';

import type { LoadedSpec } from '../spec/load-spec';
import type { PayloadRef } from '../store/payload-ref';
import type { BlobStore } from './blob-store';

/** A spec with its payloads staged in a blob store: what a workflow execution starts from. */
export interface StagedSpec {
  /** The spec file's text, validated again by the workflow exactly as the CLI validated it. */
  readonly text: string;
  readonly file: string;
  /** The spec file's folder, for local candidates' model paths. */
  readonly baseDir: string;
  readonly payloads: PayloadRef[];
  /** The quality dataset's examples, as JSON lines of `{ body, expected }`. */
  readonly qualityDataset?: PayloadRef;
}

export interface StagedFile {
  readonly key: string;
  readonly body: string | Uint8Array;
  readonly contentType?: string;
}

export interface StagingOptions {
  /** Where the workflow that reads the staged spec runs. @default 'here' */
  readonly where?: 'here' | 'cloud';
}

/**
 * The files that stage a spec under `prefix`: each payload's body, the quality dataset, and the spec with where its
 * payloads are, so the workflow needs neither the spec file nor its folder. The spec's key is
 * `<prefix>/spec.json`. For the cloud, `where: 'cloud'` leaves out where the spec lives on this
 * machine (the workflow there cannot read it anyway): the staged files, and the asset hash of a
 * construct that stages them, are then the same from any folder.
 */
export function stagedSpecFiles(
  loaded: LoadedSpec,
  prefix: string,
  { where = 'here' }: StagingOptions = {},
): { specKey: string; files: StagedFile[] } {
  const files: StagedFile[] = [];
  const refs: PayloadRef[] = loaded.payloads.map((p, i) => {
    const key = `${prefix}/payloads/${i}`;
    files.push({ key, body: p.body, contentType: p.contentType });
    return { key, name: p.name ?? `payloads[${i}]`, contentType: p.contentType, ...(p.weight !== undefined ? { weight: p.weight } : {}) };
  });
  let qualityDataset: PayloadRef | undefined;
  if (loaded.qualityExamples.length > 0) {
    qualityDataset = { key: `${prefix}/quality.jsonl`, name: 'quality.dataset', contentType: 'application/jsonl' };
    files.push({
      key: qualityDataset.key,
      body: loaded.qualityExamples.map((e) => JSON.stringify(e)).join('\n'),
      contentType: qualityDataset.contentType,
    });
  }
  const specKey = `${prefix}/spec.json`;
  const refsOf = { payloads: refs, ...(qualityDataset ? { qualityDataset } : {}) };
  const staged: StagedSpec =
    where === 'cloud'
      ? { text: loaded.source.text, file: basename(loaded.source.file), baseDir: '.', ...refsOf }
      : { ...loaded.source, baseDir: loaded.baseDir, ...refsOf };
  files.push({ key: specKey, body: JSON.stringify(staged), contentType: 'application/json' });
  return { specKey, files };
}

/** Puts a spec's staged files in the blob store; returns the spec's key. */
export async function stageSpec(loaded: LoadedSpec, blobs: BlobStore, prefix: string, options: StagingOptions = {}): Promise<string> {
  const { specKey, files } = stagedSpecFiles(loaded, prefix, options);
  for (const file of files) await blobs.put(file.key, file.body, file.contentType);
  return specKey;
}
