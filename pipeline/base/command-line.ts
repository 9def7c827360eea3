import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * One `pricedrop` sub-command. Commands live in their own files and are listed in `commands.ts`.
 * Contract for every command:
 * - it accepts `--workspace DIR` (default: the per-user data folder, see `defaultWorkspace`);
 * - where it reports, `--json` prints exactly one JSON object as the last line of stdout;
 * - progress and human chatter go to stderr (`io.progress`, `io.log`), so stdout stays parseable.
 */
export interface Command {
  name: string;
  /** One line for `pricedrop --help`. */
  summary: string;
  /** The full usage text for `pricedrop NAME --help` (flags and what they mean). */
  usage: string;
  /** Flags that take no value (everything else named `--x` expects one). */
  booleanFlags?: readonly string[];
  run(args: ParsedArgs, io: CommandIo): Promise<number | void>;
}

export interface ParsedArgs {
  /** Positional arguments after the command name (and after sub-command words like `cloud sync`). */
  positional: string[];
  /** `--name value`, `--name=value`; repeated flags keep the last value, all values are in `all`. */
  flags: Map<string, string>;
  all: Map<string, string[]>;
  /** Boolean flags that were present. */
  switches: Set<string>;
}

export interface CommandIo {
  /** Human-readable line on stderr. */
  log(message: string): void;
  /** The final JSON report: one line on stdout. */
  json(value: unknown): void;
  /** Plain text result on stdout (non-JSON mode). */
  out(message: string): void;
  /** A progress bar on stderr; redraws in place on a TTY, prints milestones otherwise. */
  progress(label: string, done: number, total?: number): void;
}

/** Raised for bad usage: the CLI prints the message and the command's usage, exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses argv after the command name. `--` ends flag parsing. */
export function parseArgs(argv: readonly string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const booleans = new Set(['json', 'help', ...booleanFlags]);
  const parsed: ParsedArgs = { positional: [], flags: new Map(), all: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      parsed.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg === '-h') parsed.switches.add('help');
      else parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (booleans.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      parsed.switches.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    parsed.flags.set(name, value);
    parsed.all.set(name, [...(parsed.all.get(name) ?? []), value]);
  }
  return parsed;
}

/** The per-user data folder: $PRICEDROP_HOME, else the platform's usual place. */
export function defaultWorkspace(): string {
  if (process.env.PRICEDROP_HOME) return resolve(process.env.PRICEDROP_HOME);
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'PriceDrop');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'PriceDrop');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'pricedrop');
}

export function workspaceOf(args: ParsedArgs): string {
  return resolve(args.flags.get('workspace') ?? defaultWorkspace());
}

export function stringFlag(args: ParsedArgs, name: string, fallback: string): string;
export function stringFlag(args: ParsedArgs, name: string): string | undefined;
export function stringFlag(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  return args.flags.get(name) ?? fallback;
}

/** A numeric flag, validated: a clear UsageError names the flag when the value is not a number in range. */
export function numberFlag(args: ParsedArgs, name: string, fallback: number, range: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  if (range.integer && !Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  if (range.min !== undefined && value < range.min) throw new UsageError(`--${name} must be at least ${range.min}, got ${raw}`);
  if (range.max !== undefined && value > range.max) throw new UsageError(`--${name} must be at most ${range.max}, got ${raw}`);
  return value;
}

export function requiredFlag(args: ParsedArgs, name: string): string {
  const value = args.flags.get(name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * Resolves at the first SIGINT or SIGTERM, then stops listening: long-running commands (`start`,
 * `serve`) await it and then shut down in order.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      resolve(signal);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}
