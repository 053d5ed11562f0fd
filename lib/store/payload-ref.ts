// Apart from results-store.ts so that staging a spec (which the constructs do at synth) does not
// load the DynamoDB client.

/** A staged payload: its body is in the blob store under `key`. */
export interface PayloadRef {
  readonly key: string;
  readonly contentType?: string;
  readonly weight?: number;
  readonly name: string;
}
