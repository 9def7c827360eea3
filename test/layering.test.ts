import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { REPO_ROOT } from './support/cli-process';

/** The layering rules of eslint.config.js must fail a wrong arrow (see docs/contributing.md). */
const eslint = new ESLint({ cwd: REPO_ROOT });

async function restrictedImportErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering', () => {
  it('forbids the core from importing electron, React or the renderer', async () => {
    expect(await restrictedImportErrors('pipeline/etl/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('model/x.ts', "import React from 'react';\nexport const r = React;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('producer/x.ts', "import { App } from '../renderer/app';\nexport const a = App;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('pipeline/etl/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).toHaveLength(0);
  });

  it('forbids the renderer from importing Node modules or backend code', async () => {
    expect(await restrictedImportErrors('renderer/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('renderer/x.ts', "import { readFileSync } from 'fs';\nexport const r = readFileSync;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('renderer/x.ts', "import { openCache } from '../pipeline/cache/cache-db';\nexport const o = openCache;\n")).toHaveLength(1);
    expect(await restrictedImportErrors('renderer/x.ts', "import type { HandlerName } from '../pipeline/app/contract';\nexport type H = HandlerName;\n")).toHaveLength(0);
  });
});
