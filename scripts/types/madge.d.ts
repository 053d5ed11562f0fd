/** The part of madge's API that scripts/check-cycles.ts uses (madge ships no types). */
declare module 'madge' {
  interface MadgeResult {
    /** Each file and the files it imports, relative to the base folder. */
    obj(): Record<string, string[]>;
    /** Every file cycle, as the files in it. */
    circular(): string[][];
  }
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string;
    detectiveOptions?: Record<string, Record<string, unknown>>;
  }
  function madge(paths: string | string[], config?: MadgeConfig): Promise<MadgeResult>;
  export default madge;
}
