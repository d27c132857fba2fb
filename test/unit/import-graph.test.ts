import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The house's floors, top to bottom (docs/architecture.md): a module may import from its own
 * folder and from any floor below, never from a floor above, and no set of modules imports
 * itself in a circle. Read from the sources' own import statements, so a move that breaks the
 * rule fails here before anyone reads the diff.
 */
export const FLOORS: string[][] = [
  ['cli'],
  ['console'],
  ['api'],
  ['attendant'],
  ['pbx', 'config'],
  ['asr', 'sip'],
  ['directory', 'media'],
  ['storage', 'util', 'log'],
];

const SRC = resolve(__dirname, '..', '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sources(path);
    return /\.ts$/.test(d.name) && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module of src/ (path relative to src/, without .ts) and the src/ modules it imports. */
export function importGraph(root = SRC): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = sources(root);
  const known = new Set(files.map((f) => relative(root, f).replace(/\.ts$/, '')));
  for (const file of files) {
    const from = relative(root, file).replace(/\.ts$/, '');
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const to = relative(root, resolve(dirname(file), ref.fileName)).replace(/\.(ts|js)$/, '');
      if (known.has(to)) targets.add(to);
      else if (known.has(`${to}/index`)) targets.add(`${to}/index`);
    }
    graph.set(from, [...targets].sort());
  }
  return graph;
}

export const floorOf = (module: string): number => {
  const folder = module.includes('/') ? module.slice(0, module.indexOf('/')) : module;
  return FLOORS.findIndex((f) => f.includes(folder));
};

/** Imports from a module to one on a higher floor (a smaller index). */
export function upwardImports(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) if (floorOf(to) < floorOf(from)) found.push(`${from} -> ${to}`);
  }
  return found;
}

/** The strongly connected sets of more than one module (Tarjan), each sorted. */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const set: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        set.push(w);
        if (w === v) break;
      }
      if (set.length > 1) found.push(set.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('reads the modules and their imports', () => {
    expect(graph.size).toBeGreaterThan(80);
    expect(graph.get('cli/main')).toEqual(expect.arrayContaining(['cli/exit-codes']));
  });

  it('puts every module on a floor', () => {
    expect([...graph.keys()].filter((m) => floorOf(m) < 0)).toEqual([]);
  });

  it('has no import from a lower floor to a higher one', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no circles', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds an upward import and a circle where there is one', () => {
    const bad = new Map([
      ['storage/sql', ['directory/entry']],
      ['directory/entry', ['directory/matcher']],
      ['directory/matcher', ['directory/entry']],
    ]);
    expect(upwardImports(bad)).toEqual(['storage/sql -> directory/entry']);
    expect(circles(bad)).toEqual([['directory/entry', 'directory/matcher']]);
  });
});
