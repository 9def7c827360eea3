import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli-process';

/**
 * electron-builder cannot package here (Electron's binary download is blocked), so this checks
 * the configuration the way electron-builder itself does before packaging (its schema
 * validator), plus what the app needs from it.
 */
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: { add(): void; isEnabled: boolean }): Promise<void>;
};

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  extraMetadata: { main: string };
  linux: { target: string[] };
  win: { target: { target: string }[] };
  mac: { target: { target: string }[] };
}

const config = yaml.load(readFileSync(join(REPO_ROOT, 'build', 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('build/electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateConfiguration(config, { add() {}, isEnabled: false })).resolves.toBeUndefined();
  });

  it('packages dist/ with better-sqlite3 and the workers unpacked, rebuilt for Electron', () => {
    expect(config.files).toContain('dist/**/*');
    expect(config.asarUnpack).toContain('**/node_modules/better-sqlite3/**');
    expect(config.asarUnpack).toContain('dist/workers/**');
    expect(config.npmRebuild).toBe(true);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string };
    expect(config.extraMetadata.main).toBe(pkg.main);
  });

  it('targets AppImage and deb, NSIS, and dmg', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(config.mac.target.map((t) => t.target)).toEqual(['dmg']);
  });
});
