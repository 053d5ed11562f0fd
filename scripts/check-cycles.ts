/**
 * Fails when a source file imports itself through others (a file cycle) or a folder does (a folder
 * cycle: lib/select importing lib/report while lib/report imports lib/select). Type-only imports
 * count: they couple folders as much as any other. Run by `npm test` (`npm run check:cycles`).
 */
import { dirname } from 'node:path';

import madge from 'madge';

const ROOTS = ['lib', 'bin', 'constructs', 'functions', 'scripts'];

async function main(): Promise<number> {
  const graph = await madge(ROOTS, {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.json',
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  });
  const files = graph.obj();
  const fileCycles = graph.circular();
  const folderCycles = cyclesOf(folderGraph(files));
  for (const cycle of fileCycles) console.error(`file cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  for (const cycle of folderCycles) console.error(`folder cycle: ${cycle.join(' ⇄ ')} (${witnesses(files, cycle).join('; ')})`);
  const problems = fileCycles.length + folderCycles.length;
  console.log(
    `check-cycles: ${Object.keys(files).length} files in ${new Set(Object.keys(files).map(dirname)).size} folders; ${fileCycles.length} file cycles, ${folderCycles.length} folder cycles`,
  );
  return problems === 0 ? 0 : 1;
}

/** Which folder imports which (a file's folder is where it lies: lib/workflow/steps is not lib/workflow). */
function folderGraph(files: Record<string, string[]>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, deps] of Object.entries(files)) {
    const from = dirname(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const dep of deps) if (dirname(dep) !== from) graph.get(from)!.add(dirname(dep));
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan's algorithm). */
function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) connect(node);
  return components;
}

/** The imports that tie a cycle's folders together, to say where to cut it. */
function witnesses(files: Record<string, string[]>, folders: string[]): string[] {
  const inCycle = new Set(folders);
  return Object.entries(files).flatMap(([file, deps]) =>
    deps.filter((dep) => dirname(dep) !== dirname(file) && inCycle.has(dirname(file)) && inCycle.has(dirname(dep))).map((dep) => `${file} → ${dep}`),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`check-cycles: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
