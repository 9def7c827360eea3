// Types of build/eslint-layers.mjs for the tests that read its layer table.
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare function unitOf(rel: string): string | undefined;
export declare function isTestPath(rel: string): boolean;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
