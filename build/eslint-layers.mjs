// PriceDrop's layering, as lint rules (docs/architecture.md explains it for people).
//
// Units are the top-level folders, and each subfolder of pipeline/. LAYERS below lists, for each
// unit, the units its sources may import; it must stay acyclic (checked when this file loads).
// Two rules read it:
// - `pricedrop/layers`: an import of a unit not in the importer's list is an error;
// - `pricedrop/no-import-cycles`: an import that closes a cycle between units (over the whole
//   repository's sources as they are on disk, with the linted file as it is in the editor).
// Tests (`*.test.*`, `test/`, fixtures) may import across layers: they are not part of a unit.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const BASE = ['pipeline/base'];
const LIBRARIES = ['pipeline/cache', 'pipeline/etl', 'pipeline/cloud', 'pipeline/athena', 'glue', 'producer', 'model'];
const APPLICATION = ['pipeline/api', 'pipeline/settings', 'pipeline/tasks', 'pipeline/dashboard', 'pipeline/products', 'pipeline/alerts', 'pipeline/docker', 'pipeline/forecasting', 'pipeline/app', 'pipeline/cli'];

/** unit → the units it may import (besides itself). */
export const LAYERS = {
  // Base: the raw format and lake layout, the price rules, CSV, time, worker threads, seeded
  // randomness, errors, disk-full, HTTP and command-line mechanics. Imports nothing of the project.
  'pipeline/base': [],
  // Libraries: each imports base and, where it must, another library in one direction.
  'pipeline/cache': [...BASE],
  'pipeline/etl': [...BASE, 'pipeline/cache'],
  'glue': [...BASE],
  'pipeline/cloud': [...BASE, 'glue'],
  'pipeline/athena': [...BASE, 'pipeline/cache', 'pipeline/cloud'],
  'producer': [...BASE],
  'model': [...BASE],
  // Application: the API's mechanics, the domains, the composition root, the CLI.
  'pipeline/api': [...BASE, 'pipeline/cache'],
  'pipeline/settings': [...BASE, 'pipeline/api', 'pipeline/cloud', 'pipeline/athena'],
  'pipeline/tasks': [...BASE, 'pipeline/api', 'pipeline/settings', 'pipeline/cache', 'pipeline/etl', 'pipeline/cloud', 'pipeline/athena'],
  'pipeline/dashboard': [...BASE, 'pipeline/api', 'pipeline/cache', 'pipeline/athena'],
  'pipeline/products': [...BASE, 'pipeline/api', 'pipeline/cache'],
  'pipeline/alerts': [...BASE, 'pipeline/api', 'pipeline/settings', 'pipeline/cache'],
  'pipeline/docker': [...BASE, 'pipeline/api', 'producer'],
  'pipeline/forecasting': [...BASE, 'pipeline/api', 'pipeline/settings', 'pipeline/tasks', 'pipeline/cache', 'pipeline/etl', 'model'],
  'pipeline/app': [...BASE, ...LIBRARIES, ...APPLICATION.filter((unit) => unit !== 'pipeline/app' && unit !== 'pipeline/cli')],
  'pipeline/cli': [...BASE, ...LIBRARIES, ...APPLICATION.filter((unit) => unit !== 'pipeline/cli')],
  // Shells: Electron hosts the composition root; the renderer sees only the typed contract
  // (pipeline/app/contract.ts, types only; eslint.config.js holds that narrower rule).
  'electron': [...BASE, 'pipeline/api', 'pipeline/settings', 'pipeline/app'],
  'renderer': ['pipeline/app'],
  // Build scripts bundle entry points by path; they import no project module.
  'build': [],
};

const TOP = ['electron', 'renderer', 'pipeline', 'producer', 'glue', 'model', 'build'];
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;

/** The unit of a path relative to the repository (forward slashes), or undefined outside the units. */
function unitOf(rel) {
  const parts = rel.split('/');
  if (!TOP.includes(parts[0])) return undefined;
  if (parts[0] === 'pipeline' && parts.length > 2) return `pipeline/${parts[1]}`;
  return parts[0];
}

/** Tests and their fixtures belong to no unit: they may import anything they exercise. */
function isTestPath(rel) {
  const name = rel.split('/').pop() ?? '';
  return /\.(test|spec)\./.test(name) || rel.includes('/fixtures/') || rel.startsWith('test/') || rel.includes('/test-') || name.startsWith('test-');
}

function assertAcyclic(layers) {
  const state = new Map();
  const visit = (unit, path) => {
    if (state.get(unit) === 'done') return;
    if (state.get(unit) === 'visiting') throw new Error(`build/eslint-layers.mjs: LAYERS has a cycle: ${[...path, unit].join(' → ')}`);
    state.set(unit, 'visiting');
    for (const next of layers[unit] ?? []) visit(next, [...path, unit]);
    state.set(unit, 'done');
  };
  for (const unit of Object.keys(layers)) visit(unit, []);
}
assertAcyclic(LAYERS);

const toPosix = (path) => path.split(sep).join('/');

/** The repository-relative target of a relative import specifier, or undefined (a package, or outside). */
function resolveImport(root, fromRel, spec) {
  if (!spec.startsWith('.')) return undefined;
  const target = toPosix(relative(root, resolve(root, dirname(fromRel), spec)));
  return target.startsWith('..') ? undefined : target;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

/** Relative specifiers a source imports (static, dynamic, side-effect, and worker URLs). */
function specifiersOf(text) {
  const found = [];
  for (const match of text.matchAll(IMPORT)) found.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
  return found;
}

const graphs = new Map();

/** file → the units it imports, for every non-test source under the units (read once per root). */
function diskGraph(root) {
  let graph = graphs.get(root);
  if (graph) return graph;
  graph = new Map();
  const walk = (dir) => {
    if (!existsSync(join(root, dir))) return;
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'public') walk(rel);
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') && !isTestPath(rel)) {
        graph.set(rel, unitImports(root, rel, readFileSync(join(root, rel), 'utf8')));
      }
    }
  };
  for (const top of TOP) walk(top);
  graphs.set(root, graph);
  return graph;
}

function unitImports(root, rel, text) {
  const from = unitOf(rel);
  const units = new Set();
  for (const spec of specifiersOf(text)) {
    const target = resolveImport(root, rel, spec);
    const unit = target && unitOf(target);
    if (unit && unit !== from) units.add(unit);
  }
  return units;
}

/** A path of units from `start` back to `goal` in the unit graph, or undefined. */
function pathBetween(edges, start, goal) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const unit = queue.shift();
    if (unit === goal) {
      const path = [];
      for (let at = goal; at !== undefined; at = previous.get(at)) path.unshift(at);
      return path;
    }
    for (const next of edges.get(unit) ?? []) {
      if (!previous.has(next)) {
        previous.set(next, unit);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** Calls `check(node, specifier)` for every import-like node of a file. */
function importVisitors(check) {
  const literal = (node) => (node && node.type === 'Literal' && typeof node.value === 'string' ? node.value : undefined);
  return {
    ImportDeclaration: (node) => check(node, node.source.value),
    ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
    ExportAllDeclaration: (node) => check(node, node.source.value),
    ImportExpression: (node) => literal(node.source) && check(node, literal(node.source)),
    NewExpression: (node) => {
      const meta = node.arguments[1];
      if (node.callee.type === 'Identifier' && node.callee.name === 'URL' && meta?.type === 'MemberExpression' && meta.object.type === 'MetaProperty') {
        const spec = literal(node.arguments[0]);
        if (spec?.startsWith('.')) check(node, spec);
      }
    },
  };
}

function fileOf(context) {
  const root = context.cwd;
  const rel = toPosix(relative(root, context.filename));
  return { root, rel, unit: rel.startsWith('..') || isTestPath(rel) ? undefined : unitOf(rel) };
}

const layers = {
  meta: { type: 'problem', docs: { description: 'Each unit imports only the units its layer allows (docs/architecture.md).' }, schema: [] },
  create(context) {
    const { root, rel, unit } = fileOf(context);
    if (!unit) return {};
    const allowed = LAYERS[unit];
    return importVisitors((node, spec) => {
      const target = resolveImport(root, rel, spec);
      const to = target && unitOf(target);
      if (!to || to === unit) return;
      if (!allowed) context.report({ node, message: `${unit} is not in the layer table: add it to LAYERS in build/eslint-layers.mjs and to docs/architecture.md.` });
      else if (!allowed.includes(to)) context.report({ node, message: `${unit} may not import ${to} (it may import ${allowed.length > 0 ? allowed.join(', ') : 'nothing of the project'}; see docs/architecture.md).` });
    });
  },
};

const noImportCycles = {
  meta: { type: 'problem', docs: { description: 'No import cycle between units (top-level folders and pipeline/ subfolders).' }, schema: [] },
  create(context) {
    const { root, rel, unit } = fileOf(context);
    if (!unit) return {};
    const graph = diskGraph(root);
    const own = unitImports(root, rel, context.sourceCode.text);
    // The unit graph with this file as it is now (the editor's text, not the disk's).
    const edges = new Map();
    for (const [file, units] of graph) {
      if (file === rel) continue;
      const from = unitOf(file);
      if (!edges.has(from)) edges.set(from, new Set());
      for (const to of units) edges.get(from).add(to);
    }
    if (!edges.has(unit)) edges.set(unit, new Set());
    for (const to of own) edges.get(unit).add(to);
    const reported = new Set();
    return importVisitors((node, spec) => {
      const target = resolveImport(root, rel, spec);
      const to = target && unitOf(target);
      if (!to || to === unit || reported.has(to)) return;
      const back = pathBetween(edges, to, unit);
      if (!back) return;
      reported.add(to);
      context.report({ node, message: `This import closes an import cycle between units: ${[unit, ...back].join(' → ')}.` });
    });
  },
};

export default { rules: { layers, 'no-import-cycles': noImportCycles } };
