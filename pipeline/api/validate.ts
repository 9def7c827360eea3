/**
 * Input validation for everything that crosses a transport (HTTP, IPC). Handlers parse their
 * `unknown` input with these before doing anything; a bad value raises ValidationError
 * (pipeline/base/errors.ts), which the transports turn into a 400 with the message (never a stack
 * trace).
 */
import { ValidationError } from '../base/errors';
export type Input = Record<string, unknown>;

/** The largest request a transport accepts: an HTTP body, or the params of an IPC call. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** The deepest nesting a request's params may have (no handler takes more than three levels). */
export const MAX_PARAMS_DEPTH = 20;

/**
 * Keys that reach an object's prototype when a handler assigns or merges them (`Object.assign`,
 * a recursive merge): no handler takes a field by these names, so they are refused outright.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The checks every transport makes before a handler sees a request's params: absent, or one plain
 * object of plain JSON data (objects, arrays, strings, finite numbers, booleans, null), nested at
 * most MAX_PARAMS_DEPTH deep, with no prototype keys. Returns the problem, naming where it is, or
 * undefined when the params are fine. Handlers then validate their own fields.
 */
export function paramsProblem(params: unknown): string | undefined {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== 'object' || Array.isArray(params)) return 'params must be an object';
  return plainDataProblem(params, 'params', 0);
}

function plainDataProblem(value: unknown, path: string, depth: number): string | undefined {
  // undefined: a field left out (IPC's structured clone keeps it; JSON never has it).
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} must be a finite number`;
  if (typeof value !== 'object') return `${path} must be plain JSON data`;
  if (depth >= MAX_PARAMS_DEPTH) return `params must be nested at most ${MAX_PARAMS_DEPTH} deep (${path.slice(0, 200)})`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = plainDataProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return `${path} must be plain JSON data`; // Date, Map, typed arrays (IPC's structured clone)
  for (const key of Object.keys(value)) {
    const at = `${path}.${key.slice(0, 60)}`;
    if (PROTOTYPE_KEYS.has(key)) return `${at} is not accepted`;
    const problem = plainDataProblem((value as Record<string, unknown>)[key], at, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** The params object of a request: a plain object, or `{}` for undefined/null. */
export function record(input: unknown, what = 'params'): Input {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ValidationError(`${what} must be an object`);
  return input as Input;
}

export function optionalString(input: Input, key: string, maxLength = 500): string | undefined {
  const value = input[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError(`${key} must be a string`);
  if (value.length > maxLength) throw new ValidationError(`${key} is longer than ${maxLength} characters`);
  return value;
}

export function requiredString(input: Input, key: string, maxLength = 500): string {
  const value = optionalString(input, key, maxLength);
  if (value === undefined) throw new ValidationError(`${key} is required`);
  return value;
}

export function optionalNumber(input: Input, key: string, range: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`${key} must be a finite number`);
  if (range.integer && !Number.isInteger(value)) throw new ValidationError(`${key} must be a whole number`);
  if (range.min !== undefined && value < range.min) throw new ValidationError(`${key} must be at least ${range.min}`);
  if (range.max !== undefined && value > range.max) throw new ValidationError(`${key} must be at most ${range.max}`);
  return value;
}

export function optionalBoolean(input: Input, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`${key} must be true or false`);
  return value;
}

export function optionalEnum<T extends string>(input: Input, key: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(input, key, 100);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new ValidationError(`${key} must be one of: ${allowed.join(', ')}`);
  return value as T;
}

export function optionalStringArray(input: Input, key: string, maxItems = 200, maxLength = 200): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ValidationError(`${key} must be a list of strings`);
  if (value.length > maxItems) throw new ValidationError(`${key} has more than ${maxItems} items`);
  return value.map((item, i) => {
    if (typeof item !== 'string' || item.length > maxLength) throw new ValidationError(`${key}[${i}] must be a string of at most ${maxLength} characters`);
    return item;
  });
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day `YYYY-MM-DD` that exists. */
export function optionalDay(input: Input, key: string): string | undefined {
  const value = optionalString(input, key, 10);
  if (value === undefined) return undefined;
  if (!ISO_DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new ValidationError(`${key} must be a date YYYY-MM-DD`);
  }
  return value;
}
