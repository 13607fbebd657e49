/**
 * The import graph of a TypeScript source tree, read with the compiler's own scanner
 * (`ts.preProcessFile`: imports, `export … from`, `import type`, `import()` and `require()`),
 * and what the architecture test asks of it: its cycles and the edges that go against the layers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** File → the files it imports, both as paths relative to the root, with '/' separators. */
export type ImportGraph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/**
 * The .ts file a relative specifier names once compiled: x → x.ts or x/index.ts (CommonJS, src/);
 * x.js → x.ts (ES modules, the page's web/src/).
 */
function resolveSource(fromFile: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const candidates = base.endsWith('.js') ? [`${base.slice(0, -3)}.ts`] : [`${base}.ts`, path.join(base, 'index.ts')];
  for (const candidate of candidates) {
    if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  return null;
}

/**
 * Every .ts file under `root` with the files under `root` it imports. Package imports are not
 * edges; nor are relative paths that leave `root` (src's `require('../../../package.json')` is
 * written for the compiled file's place). A relative import inside `root` that names no source
 * file is an error, so a new import form cannot slip past the graph unseen.
 */
export function buildImportGraph(root: string): ImportGraph {
  const toKey = (file: string) => path.relative(root, file).split(path.sep).join('/');
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root).sort()) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName);
      if (path.relative(root, target).startsWith('..')) continue;
      if (path.extname(fileName) === '.json') continue;
      const resolved = resolveSource(file, fileName);
      if (!resolved) throw new Error(`${toKey(file)} imports '${fileName}', which names no .ts file`);
      targets.add(toKey(resolved));
    }
    graph.set(toKey(file), [...targets].sort());
  }
  return graph;
}

/** The graph restricted to files whose path starts with `prefix` (e.g. 'models/'). */
export function subgraph(graph: ImportGraph, prefix: string): ImportGraph {
  const inside = (file: string) => file.startsWith(prefix);
  return new Map([...graph].filter(([file]) => inside(file)).map(([file, targets]) => [file, targets.filter(inside)]));
}

/**
 * The import cycles, one per strongly connected component of more than one file (or a file that
 * imports itself), each written as one closed path through it: 'a.ts → b.ts → a.ts'.
 */
export function findCycles(graph: ImportGraph): string[] {
  // Tarjan's algorithm, iterative over each file's targets via an explicit stack of positions.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const targetsOf = (file: string) => graph.get(file) ?? [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { file: string; next: number }[] = [];
    const visit = (file: string) => {
      index.set(file, index.size);
      low.set(file, index.get(file)!);
      stack.push(file);
      onStack.add(file);
      work.push({ file, next: 0 });
    };
    visit(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const targets = targetsOf(frame.file);
      if (frame.next < targets.length) {
        const target = targets[frame.next++];
        if (!index.has(target)) visit(target);
        else if (onStack.has(target)) low.set(frame.file, Math.min(low.get(frame.file)!, index.get(target)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.file)!));
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.file);
        if (component.length > 1 || targetsOf(frame.file).includes(frame.file)) components.push(component.sort());
      }
    }
  }
  return components.map((component) => closedPath(graph, component)).sort();
}

/** The shortest path from the component's first file back to itself, through the component. */
function closedPath(graph: ImportGraph, component: string[]): string {
  const members = new Set(component);
  const start = component[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const target of graph.get(file) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const route = [file];
        while (route[0] !== start) route.unshift(cameFrom.get(route[0])!);
        return [...route, start].join(' → ');
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  throw new Error(`no cycle through ${start}`); // unreachable for a strongly connected component
}
