import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { splitCsvText } from '../../pipeline/base/csv-records';
import { RAW_HEADER, encodeRawRecord, type RawRecord } from '../../pipeline/base/raw-format';
import { buildProducerBundle } from '../../producer/build-producer-bundle';

/** Shared pieces of the producer's cross-process suites. */

let bundle: Promise<string> | undefined;
/** The self-contained producer bundle (what the container runs), built once per test file. */
export function producerBundle(): Promise<string> {
  bundle ??= buildProducerBundle(join(mkdtempSync(join(tmpdir(), 'pricedrop-bundle-')), 'producer.mjs'));
  return bundle;
}

export function tempFolder(prefix = 'pricedrop-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the bundled producer with `args`; `done` settles when it exits. */
export function startProducer(bundlePath: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const child = spawn(process.execPath, [bundlePath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Every file under `root`, relative, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

/** Parses one raw batch object; throws if it is torn (no header, a short row, no final CRLF). */
export function parseRawBatch(text: string, name = 'batch'): string[][] {
  if (!text.startsWith(RAW_HEADER + '\r\n')) throw new Error(`${name}: does not start with the raw header`);
  if (!text.endsWith('\r\n')) throw new Error(`${name}: does not end with CRLF (torn write?)`);
  return splitCsvText(text.slice(RAW_HEADER.length + 2)).map((record) => {
    if (record.malformed || record.fields.length !== 8) throw new Error(`${name}: a row with ${record.fields.length} fields: ${record.raw}`);
    return record.fields;
  });
}

/** All rows of every .csv object in a local lake, each as its CSV line (for set comparisons). */
export function readLakeRows(lake: string): string[][] {
  const rows: string[][] = [];
  for (const file of listFiles(lake)) {
    if (!file.endsWith('.csv')) continue;
    rows.push(...parseRawBatch(readFileSync(join(lake, file), 'utf8'), file));
  }
  return rows;
}

/** The dedup key of a row (source, product_id, observed_at). */
export function dedupKey(fields: readonly string[]): string {
  return `${fields[6]}\u0000${fields[0]}\u0000${fields[7]}`;
}

/** `count` distinct, deterministic records in time order (titles with commas and quotes included). */
export function knownRecords(count: number, source = 'replay'): RawRecord[] {
  const start = Date.UTC(2026, 0, 1);
  const records: RawRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      product_id: `p${i % 997}`,
      title: i % 13 === 0 ? `Gadget "${i % 997}", deluxe` : `Gadget ${i % 997}`,
      category: ['electronics', 'home', 'toys'][i % 3]!,
      price: 10 + (i % 500) / 10,
      old_price: i % 4 === 0 ? 70 : null,
      currency: i % 5 === 0 ? 'EUR' : 'USD',
      source,
      observed_at: new Date(start + Math.floor(i / 997) * 3_600_000).toISOString(),
    });
  }
  return records;
}

/** Writes records as a raw CSV (the replay source's input). */
export function rawCsv(records: readonly RawRecord[]): string {
  return RAW_HEADER + '\r\n' + records.map((record) => encodeRawRecord(record) + '\r\n').join('');
}
