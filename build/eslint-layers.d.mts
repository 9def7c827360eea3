// Types of build/eslint-layers.mjs for the tests that read its layer table.
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
