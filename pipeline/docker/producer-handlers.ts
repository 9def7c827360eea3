import { isAbsolute } from 'node:path';
import type { CoreEvents, EventSink } from '../api/event-bus';
import { optionalBoolean, optionalEnum, optionalNumber, optionalString, record, type Input } from '../api/validate';
import { SOURCE_NAMES } from '../../producer/sources';
import { ConflictError, ValidationError } from '../base/errors';
import { HOUR_MS } from '../base/time';
import { DockerUnavailableError, ProducerBusyError, type ProducerControl, type ProducerStartOptions, type ProducerStatus } from './producer-control';

/** The producer domain's event: the producer (container or child process) changed state: building, running, exited... */
export interface ProducerEvents {
  'producer/status': ProducerStatus;
}

/** What the producer handlers need: the backend's one producer control (built by the composition root). */
export interface ProducerContext {
  producer: ProducerControl;
}

/**
 * Sends the producer's status changes out as `producer/status` events and its output lines as
 * `log/line` events with source 'producer'. Started once by the composition root;
 * returns the function that stops forwarding.
 */
export function forwardProducerEvents(control: ProducerControl, events: EventSink<CoreEvents & ProducerEvents>): () => void {
  const offStatus = control.onStatus((status) => events.emit('producer/status', status));
  const offLog = control.onLog((line) => {
    const level = /^(warn|error):/.exec(line.line)?.[1] as 'warn' | 'error' | undefined;
    events.emit('log/line', { level: level ?? 'info', source: 'producer', message: line.line, at: line.at });
  });
  return () => {
    offStatus();
    offLog();
  };
}

/**
 * The producer domain of the API: start/stop/status of the producer (a Docker container when an
 * engine answers, else a child process; `runner` in the status says which).
 */
export function producerHandlers(ctx: ProducerContext) {
  const control = ctx.producer;
  return {
    /** Starts the producer; refused (409) while one builds, starts, runs or stops, or when Docker was asked for and no engine answers. */
    'producer/start': async (params: unknown) => {
      const options = parseStartParams(params);
      try {
        return await control.start(options);
      } catch (error) {
        if (error instanceof ProducerBusyError || error instanceof DockerUnavailableError) throw new ConflictError(error.message, { cause: error });
        throw error;
      }
    },
    /** SIGTERM: the producer seals and delivers its open batch, then exits. */
    'producer/stop': async () => control.stop(),
    /** The status plus the last 50 output lines. */
    'producer/status': async () => ({ ...(await control.status()), logs: control.recentLogs().slice(-50) }),
  };
}

function httpUrl(input: Input, key: string): string | undefined {
  const value = optionalString(input, key, 2000);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(`${key} must be a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`${key} must be an http(s) URL`);
  return value;
}

/** Validates `producer/start` params: the producer's options (camelCase) plus optional credentials. */
export function parseStartParams(params: unknown): ProducerStartOptions {
  const input = record(params);
  const source = optionalEnum(input, 'source', SOURCE_NAMES) ?? 'simulator';
  const sink = optionalString(input, 'sink', 2000);
  if (sink !== undefined && !sink.startsWith('s3://') && !isAbsolute(sink)) throw new ValidationError('sink must be an absolute folder path or s3://BUCKET/PREFIX');
  const file = optionalString(input, 'file', 2000);
  if (file !== undefined && !isAbsolute(file)) throw new ValidationError('file must be an absolute path');
  if (source === 'replay' && !file) throw new ValidationError('file is required for the replay source');
  const url = httpUrl(input, 'url');
  if (source === 'shopify' && !url) throw new ValidationError('url is required for the shopify source');
  // Secrets never cross the UI transports: the producer gets AWS keys and the Best Buy key from the
  // backend's own environment and credential chain (producer-control passes them through). The UI
  // may only name an AWS profile.
  const credentials = record(input.credentials, 'credentials');
  const allowed = new Set(['awsProfile']);
  for (const key of Object.keys(credentials)) {
    if (!allowed.has(key)) throw new ValidationError(`credentials.${key} is not accepted: secrets come from the backend's AWS chain and environment, not from the UI`);
  }
  const env: Record<string, string> = {};
  const profile = optionalString(credentials, 'awsProfile', 200);
  if (profile !== undefined) {
    if (!/^[\w.+=@-]+$/.test(profile)) throw new ValidationError('credentials.awsProfile must be a profile name');
    env.AWS_PROFILE = profile;
  }
  return {
    source,
    sink,
    file,
    url,
    s3Endpoint: httpUrl(input, 's3Endpoint'),
    s3Region: optionalString(input, 's3Region', 50),
    products: optionalNumber(input, 'products', { min: 1, max: 1_000_000, integer: true }),
    seed: optionalNumber(input, 'seed', { integer: true }),
    backfillDays: optionalNumber(input, 'backfillDays', { min: 0, max: 3650, integer: true }),
    intervalSeconds: optionalNumber(input, 'intervalSeconds', { min: 0.01, max: 86_400 }),
    batchSize: optionalNumber(input, 'batchSize', { min: 1, max: 1_000_000, integer: true }),
    batchAgeMs: optionalNumber(input, 'batchAgeMs', { min: 1, max: HOUR_MS }),
    maxRecords: optionalNumber(input, 'maxRecords', { min: 1, integer: true }),
    spoolMaxMb: optionalNumber(input, 'spoolMaxMb', { min: 1, max: 1_000_000 }),
    pageSize: optionalNumber(input, 'pageSize', { min: 1, max: 1000, integer: true }),
    concurrency: optionalNumber(input, 'concurrency', { min: 1, max: 32, integer: true }),
    ratePerSecond: optionalNumber(input, 'ratePerSecond', { min: 0.01, max: 1000 }),
    currency: optionalString(input, 'currency', 10),
    query: optionalString(input, 'query', 1000),
    map: optionalString(input, 'map', 2000),
    dateFromFilename: optionalBoolean(input, 'dateFromFilename'),
    speed: optionalNumber(input, 'speed', { min: 0.000001 }),
    once: optionalBoolean(input, 'once'),
    env,
  };
}
