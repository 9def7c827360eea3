import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { REPO_ROOT } from './support/cli-process';
import { LAYERS } from '../build/eslint-layers.mjs';

/** The layering rules of eslint.config.js must fail a wrong arrow (see docs/architecture.md). */
const eslint = new ESLint({ cwd: REPO_ROOT });
/** The same configuration with the layer table off, to show the cycle rule fires on its own. */
const cyclesOnly = new ESLint({ cwd: REPO_ROOT, overrideConfig: { rules: { 'pricedrop/layers': 'off' } } });

async function errors(filePath: string, code: string, rule: string, linter = eslint): Promise<string[]> {
  const [result] = await linter.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

const restricted = (filePath: string, code: string) => errors(filePath, code, 'no-restricted-imports');
const layers = (filePath: string, code: string) => errors(filePath, code, 'pricedrop/layers');

describe('layering', () => {
  it('forbids the core from importing electron, React or the renderer', async () => {
    expect(await restricted('pipeline/etl/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    expect(await restricted('model/x.ts', "import React from 'react';\nexport const r = React;\n")).toHaveLength(1);
    expect(await restricted('producer/x.ts', "import { App } from '../renderer/app';\nexport const a = App;\n")).toHaveLength(1);
    expect(await restricted('pipeline/etl/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).toHaveLength(0);
  });

  it('forbids the renderer from importing Node modules or backend code', async () => {
    expect(await restricted('renderer/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toHaveLength(1);
    expect(await restricted('renderer/x.ts', "import { readFileSync } from 'fs';\nexport const r = readFileSync;\n")).toHaveLength(1);
    expect(await restricted('renderer/x.ts', "import { openCache } from '../pipeline/cache/cache-db';\nexport const o = openCache;\n")).toHaveLength(1);
    expect(await restricted('renderer/x.ts', "import { createHandlers } from '../pipeline/app/handlers';\nexport const c = createHandlers;\n")).toHaveLength(1);
    expect(await restricted('renderer/x.ts', "import type { HandlerName } from '../pipeline/app/contract';\nexport type H = HandlerName;\n")).toHaveLength(0);
  });

  it('keeps model/ off the CLI and the cache: it takes histories and returns models', async () => {
    expect(await layers('model/x.ts', "import { numberFlag } from '../pipeline/cli/commands';\nexport const n = numberFlag;\n")).toEqual([expect.stringMatching(/^model may not import pipeline\/cli/)]);
    expect(await layers('model/x.ts', "import { openCache } from '../pipeline/cache/cache-db';\nexport const o = openCache;\n")).toEqual([expect.stringMatching(/^model may not import pipeline\/cache/)]);
    expect(await layers('model/x.ts', "import { DAY_MS } from '../pipeline/base/time';\nexport const d = DAY_MS;\n")).toEqual([]);
  });

  it('keeps the base free of the project, and each library and domain in its lane', async () => {
    expect(await layers('pipeline/base/x.ts', "import { openCache } from '../cache/cache-db';\nexport const o = openCache;\n")).toEqual([expect.stringMatching(/pipeline\/base may not import pipeline\/cache .*nothing of the project/)]);
    expect(await layers('producer/x.ts', "import { commands } from '../pipeline/cli/commands';\nexport const c = commands;\n")).toHaveLength(1);
    expect(await layers('pipeline/cache/x.ts', "import { runLocalEtl } from '../etl/local-etl';\nexport const r = runLocalEtl;\n")).toHaveLength(1);
    expect(await layers('pipeline/api/x.ts', "import { taskHandlers } from '../tasks/task-handlers';\nexport const t = taskHandlers;\n")).toHaveLength(1);
    expect(await layers('pipeline/alerts/x.ts', "import { forecastHandlers } from '../forecasting/forecast-handlers';\nexport const f = forecastHandlers;\n")).toHaveLength(1);
    // Dynamic imports and worker URLs count as imports too.
    expect(await layers('pipeline/etl/x.ts', "export const w = new URL('../tasks/x.worker.ts', import.meta.url);\n")).toHaveLength(1);
    expect(await layers('pipeline/etl/x.ts', "export const m = () => import('../app/handlers');\n")).toHaveLength(1);
    // A new folder must be placed in the table before it imports anything.
    expect(await layers('pipeline/newdomain/x.ts', "import { record } from '../api/validate';\nexport const r = record;\n")).toEqual([expect.stringMatching(/not in the layer table/)]);
    // Tests may reach across layers to exercise what they test.
    expect(await layers('model/x.test.ts', "import { openCache } from '../pipeline/cache/cache-db';\nexport const o = openCache;\n")).toEqual([]);
  });

  it('reports an import that closes a cycle between units, even where the layer table is silent', async () => {
    // pipeline/app imports pipeline/cache, so pipeline/cache importing pipeline/app closes a cycle.
    const cycle = await errors('pipeline/cache/x.ts', "import type { AppContext } from '../app/app-context';\nexport type A = AppContext;\n", 'pricedrop/no-import-cycles', cyclesOnly);
    expect(cycle).toEqual([expect.stringMatching(/^This import closes an import cycle between units: pipeline\/cache → pipeline\/app → .*pipeline\/cache\.$/)]);
    expect(await errors('pipeline/app/x.ts', "import { openCache } from '../cache/cache-db';\nexport const o = openCache;\n", 'pricedrop/no-import-cycles', cyclesOnly)).toEqual([]);
  });

  it('has an acyclic layer table that names every unit of the repository', () => {
    const pipelineUnits = readdirSync(join(REPO_ROOT, 'pipeline'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `pipeline/${e.name}`);
    for (const unit of [...pipelineUnits, 'producer', 'model', 'glue', 'electron', 'renderer']) expect(Object.keys(LAYERS)).toContain(unit);
    const seen = new Set<string>();
    const visit = (unit: string, path: string[]): void => {
      expect(path, `cycle through ${unit}`).not.toContain(unit);
      if (seen.has(unit)) return;
      for (const next of LAYERS[unit] ?? []) visit(next, [...path, unit]);
      seen.add(unit);
    };
    for (const unit of Object.keys(LAYERS)) visit(unit, []);
  });
});
