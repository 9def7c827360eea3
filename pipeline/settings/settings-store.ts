import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionalBoolean, optionalEnum, optionalNumber, optionalString, optionalStringArray, optionalDay, record, type Input } from '../api/validate';
import { ValidationError } from '../base/errors';

/**
 * The user's settings, stored in the workspace (`<workspace>/settings.json`) so that the Electron
 * window and a browser on `pricedrop start --headless` see the same ones.
 *
 * AWS settings are *names only* (profile, region, bucket, Glue database, Athena workgroup):
 * credentials come from the standard AWS chain (environment, ~/.aws, SSO, instance role) in the
 * backend and are never accepted, stored or returned here. Unknown keys are rejected, so a
 * credential cannot be smuggled in under another name.
 */
export interface Settings {
  mode: 'embedded' | 'aws';
  aws: {
    profile: string;
    region: string;
    bucket: string;
    /** The Glue database; the crawler and job names derive from it (pipeline/cloud/aws-config glueNames). */
    glueDatabase: string;
    athenaWorkgroup: string;
    /** Where Athena writes results, `s3://bucket/prefix/` (empty: the workgroup's own setting). */
    athenaOutput: string;
  };
  producer: {
    source: string;
    intervalSeconds: number;
    sink: 'local' | 's3';
    products: number;
  };
  alerts: {
    /** At most this many alerts a day (UTC) reach the user; the rest are counted, not shown. */
    dailyCap: number;
    desktopNotifications: boolean;
  };
  /** The embedded default's own training (pipeline/forecasting/forecast-service.ts). */
  forecaster: {
    /** Train a first model once the cache holds enough history, and retrain in the background. */
    autoTrain: boolean;
    /** Retrain when the cached product-days grew by this many percent since the model's training. */
    retrainGrowthPct: number;
    /** Retrain when the model is this many hours old and the data has grown at all. */
    retrainIntervalHours: number;
  };
  /** The dashboard's last filters, restored on the next start. */
  dashboard: {
    from: string;
    to: string;
    categories: string[];
    dropStatus: 'all' | 'drop' | 'no drop';
    grain: 'day' | 'week' | 'month';
  };
}

export const DEFAULT_SETTINGS: Settings = {
  mode: 'embedded',
  aws: { profile: 'default', region: 'eu-west-1', bucket: '', glueDatabase: 'pricedrop', athenaWorkgroup: 'pricedrop', athenaOutput: '' },
  producer: { source: 'simulator', intervalSeconds: 5, sink: 'local', products: 300 },
  alerts: { dailyCap: 20, desktopNotifications: true },
  forecaster: { autoTrain: true, retrainGrowthPct: 25, retrainIntervalHours: 24 },
  dashboard: { from: '', to: '', categories: [], dropStatus: 'all', grain: 'day' },
};

/** A partial update: any section, any of its keys. */
export type SettingsPatch = { mode?: Settings['mode'] } & { [S in Exclude<keyof Settings, 'mode'>]?: Partial<Settings[S]> };

export function settingsPath(workspace: string): string {
  return join(workspace, 'settings.json');
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Reads the settings; missing file or keys fall back to the defaults, a damaged file too (reported by `problem`). */
export function readSettings(workspace: string): Settings & { problem?: string } {
  const file = settingsPath(workspace);
  if (!existsSync(file)) return clone(DEFAULT_SETTINGS);
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return applySettingsPatch(clone(DEFAULT_SETTINGS), parseSettingsPatch(stored, true));
  } catch (error) {
    return { ...clone(DEFAULT_SETTINGS), problem: `settings.json could not be read (${(error as Error).message}); using defaults` };
  }
}

/** Validates and stores a partial update; returns the full settings after it. */
export function updateSettings(workspace: string, patch: unknown): Settings {
  const parsed = parseSettingsPatch(patch, false);
  const { problem: _problem, ...current } = readSettings(workspace);
  const next = applySettingsPatch(current, parsed);
  mkdirSync(workspace, { recursive: true });
  const file = settingsPath(workspace);
  // Write-then-rename: a crash mid-write never leaves a half file.
  writeFileSync(`${file}.tmp`, JSON.stringify(next, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return next;
}

export function applySettingsPatch(base: Settings, patch: SettingsPatch): Settings {
  const next = clone(base);
  if (patch.mode) next.mode = patch.mode;
  for (const section of ['aws', 'producer', 'alerts', 'forecaster', 'dashboard'] as const) {
    const part = patch[section];
    if (part) Object.assign(next[section], part);
  }
  return next;
}

const NAME = /^[A-Za-z0-9._\-/:@+=, ]*$/;
const CREDENTIAL_HINT = /(secret|password|token|credential|access.?key|session)/i;

function name(input: Input, key: string, maxLength = 255): string | undefined {
  const value = input[key] === '' ? '' : optionalString(input, key, maxLength);
  if (value === undefined) return undefined;
  if (!NAME.test(value)) throw new ValidationError(`${key} may only hold letters, digits and . _ - / : @ + = , and spaces`);
  return value.trim();
}

function onlyKeys(input: Input, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(input)) {
    if (CREDENTIAL_HINT.test(key)) throw new ValidationError(`${where}.${key}: PriceDrop never stores credentials; they come from the AWS profile or environment`);
    if (!allowed.includes(key)) throw new ValidationError(`${where}: unknown setting "${key.slice(0, 60)}"`);
  }
}

/**
 * Parses a partial update, rejecting unknown keys and anything that looks like a credential.
 * `lenient` (reading the stored file) drops unknown keys instead of failing.
 */
export function parseSettingsPatch(raw: unknown, lenient: boolean): SettingsPatch {
  const input = record(raw, 'settings');
  const sections = ['mode', 'aws', 'producer', 'alerts', 'forecaster', 'dashboard'];
  if (!lenient) onlyKeys(input, sections, 'settings');
  const patch: SettingsPatch = {};
  const mode = optionalEnum(input, 'mode', ['embedded', 'aws'] as const);
  if (mode) patch.mode = mode;
  const section = (key: string, allowed: string[]): Input | undefined => {
    if (input[key] === undefined) return undefined;
    const part = record(input[key], key);
    if (!lenient) onlyKeys(part, allowed, key);
    return part;
  };
  const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

  const aws = section('aws', Object.keys(DEFAULT_SETTINGS.aws));
  if (aws) {
    const region = name(aws, 'region', 40);
    if (region && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new ValidationError('aws.region must look like eu-west-1');
    const athenaOutput = name(aws, 'athenaOutput', 1024);
    if (athenaOutput && !athenaOutput.startsWith('s3://')) throw new ValidationError('aws.athenaOutput must be an s3:// location');
    patch.aws = defined({
      profile: name(aws, 'profile', 128),
      region,
      bucket: name(aws, 'bucket', 63),
      glueDatabase: name(aws, 'glueDatabase', 255),
      athenaWorkgroup: name(aws, 'athenaWorkgroup', 128),
      athenaOutput,
    });
  }
  const producer = section('producer', Object.keys(DEFAULT_SETTINGS.producer));
  if (producer) {
    patch.producer = defined({
      source: name(producer, 'source', 64),
      intervalSeconds: optionalNumber(producer, 'intervalSeconds', { min: 0.1, max: 86_400 }),
      sink: optionalEnum(producer, 'sink', ['local', 's3'] as const),
      products: optionalNumber(producer, 'products', { min: 1, max: 100_000, integer: true }),
    });
  }
  const alerts = section('alerts', Object.keys(DEFAULT_SETTINGS.alerts));
  if (alerts) {
    patch.alerts = defined({
      dailyCap: optionalNumber(alerts, 'dailyCap', { min: 0, max: 1000, integer: true }),
      desktopNotifications: optionalBoolean(alerts, 'desktopNotifications'),
    });
  }
  const forecaster = section('forecaster', Object.keys(DEFAULT_SETTINGS.forecaster));
  if (forecaster) {
    patch.forecaster = defined({
      autoTrain: optionalBoolean(forecaster, 'autoTrain'),
      retrainGrowthPct: optionalNumber(forecaster, 'retrainGrowthPct', { min: 1, max: 1000 }),
      retrainIntervalHours: optionalNumber(forecaster, 'retrainIntervalHours', { min: 1, max: 24 * 365 }),
    });
  }
  const dashboard = section('dashboard', Object.keys(DEFAULT_SETTINGS.dashboard));
  if (dashboard) {
    const from = dashboard.from === '' ? '' : optionalDay(dashboard, 'from');
    const to = dashboard.to === '' ? '' : optionalDay(dashboard, 'to');
    patch.dashboard = defined({
      from,
      to,
      categories: optionalStringArray(dashboard, 'categories'),
      dropStatus: optionalEnum(dashboard, 'dropStatus', ['all', 'drop', 'no drop'] as const),
      grain: optionalEnum(dashboard, 'grain', ['day', 'week', 'month'] as const),
    });
  }
  return patch;
}
