import { cachePath, openCache, type CacheDb } from '../cache/cache-db';
import { kindFromRepeatShare, type SourceKind } from '../../model/timeline';
import { readSources } from './history-reader';

/**
 * What a source's rows mean when a product has none for a while (table `source_kinds`):
 * - `snapshots`: each scrape lists every tracked product, prices repeated or not, so a product
 *   missing from a snapshot is unknown, not unchanged;
 * - `changes`: a change log records only new prices, so no row means the price held.
 * The user may say it (`pricedrop import --kind`); otherwise it is detected from the data and a
 * detection never overwrites what the user said.
 */

export function isSourceKind(value: string): value is SourceKind {
  return value === 'snapshots' || value === 'changes';
}

export interface SourceKindInfo {
  kind: SourceKind;
  /** True when detected from the data, false when the user gave it. */
  detected: boolean;
  /** Among consecutive observations of the same product, the share that repeat the previous price; null when not measured. */
  repeat_share: number | null;
}

/** Fewer consecutive pairs than this say nothing yet (a first batch holds one row per product). */
const MIN_PAIRS = 20;
/** Products read per source for a detection, spread over the source: bounds the cost on big caches. */
const SAMPLE_PRODUCTS = 200;

/** Every source's stored kind. */
export function readSourceKinds(db: CacheDb): Map<string, SourceKindInfo> {
  const rows = db.prepare('SELECT source, kind, detected, repeat_share FROM source_kinds ORDER BY source').all() as { source: string; kind: SourceKind; detected: number; repeat_share: number | null }[];
  return new Map(rows.map((row) => [row.source, { kind: row.kind, detected: row.detected === 1, repeat_share: row.repeat_share }]));
}

/**
 * The share of consecutive observations (same product) whose price equals the previous one, over
 * up to SAMPLE_PRODUCTS products of the source; null with fewer than MIN_PAIRS pairs.
 */
export function measureRepeatShare(db: CacheDb, source: string): number | null {
  const ids = db.prepare('SELECT id FROM product_keys WHERE source = ? ORDER BY id').pluck().all(source) as number[];
  const step = Math.max(1, Math.ceil(ids.length / SAMPLE_PRODUCTS));
  const prices = db.prepare('SELECT price FROM observation_records WHERE product = ? ORDER BY observed_at').pluck();
  let pairs = 0;
  let repeats = 0;
  for (let i = 0; i < ids.length; i += step) {
    const rows = prices.all(ids[i]!) as number[];
    for (let r = 1; r < rows.length; r++) {
      pairs++;
      if (rows[r] === rows[r - 1]) repeats++;
    }
  }
  return pairs >= MIN_PAIRS ? repeats / pairs : null;
}

/** Stores the user's word for a source (detected = 0): detection leaves it alone from then on. */
export function setSourceKind(db: CacheDb, source: string, kind: SourceKind): void {
  const share = measureRepeatShare(db, source);
  db.prepare(
    `INSERT INTO source_kinds (source, kind, detected, repeat_share) VALUES (?, ?, 0, ?)
     ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, detected = 0, repeat_share = excluded.repeat_share`,
  ).run(source, kind, share);
}

/** A detection's outcome for one source, as `describeSourceKind` words it. */
export interface DetectedKind extends SourceKindInfo {
  source: string;
}

/**
 * Detects the kind of each source that has enough rows and no kind given by the user, stores it
 * (detected = 1) and returns what it stored; user-given kinds are returned unchanged. Sources with
 * too few consecutive rows yet are skipped (asked again on a later pass).
 */
export function detectSourceKinds(db: CacheDb, sources?: readonly string[]): DetectedKind[] {
  const known = readSourceKinds(db);
  const all = sources ?? readSources(db);
  const store = db.prepare(
    `INSERT INTO source_kinds (source, kind, detected, repeat_share) VALUES (?, ?, 1, ?)
     ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, repeat_share = excluded.repeat_share WHERE source_kinds.detected = 1`,
  );
  const out: DetectedKind[] = [];
  for (const source of all) {
    const given = known.get(source);
    if (given && !given.detected) {
      out.push({ source, ...given });
      continue;
    }
    const share = measureRepeatShare(db, source);
    if (share === null) continue;
    const kind = kindFromRepeatShare(share);
    store.run(source, kind, share);
    out.push({ source, kind, detected: true, repeat_share: share });
  }
  return out;
}

/**
 * Detects the kind of the sources that have none stored yet (the embedded ETL loop, after each
 * pass: a source's kind rarely changes, and reading samples of every source every few seconds
 * would hold the backend's thread for nothing). Returns what it stored.
 */
export function detectNewSourceKinds(db: CacheDb): DetectedKind[] {
  const unknown = db.prepare('SELECT DISTINCT source FROM product_keys WHERE source NOT IN (SELECT source FROM source_kinds) ORDER BY source').pluck().all() as string[];
  return unknown.length > 0 ? detectSourceKinds(db, unknown) : [];
}

/** "source X: snapshots (detected: 83 % of consecutive rows repeat the price)", or "(given with --kind)". */
export function describeSourceKind(entry: DetectedKind): string {
  const share = entry.repeat_share === null ? 'not measured yet' : `${Math.round(entry.repeat_share * 100)} % of consecutive rows repeat the price`;
  return `source ${entry.source}: ${entry.kind} (${entry.detected ? `detected: ${share}` : `given with --kind; ${share}`})`;
}

/**
 * After an import or an ETL run: stores the user's kind for `sources` (when given), detects the
 * kind of the others (every source when `sources` is absent) and returns one line per source.
 */
export function recordSourceKinds(workspace: string, options: { sources?: readonly string[]; kind?: SourceKind } = {}): string[] {
  const db = openCache(cachePath(workspace));
  try {
    if (options.kind) for (const source of options.sources ?? []) setSourceKind(db, source, options.kind);
    return detectSourceKinds(db, options.sources).map(describeSourceKind);
  } finally {
    db.close();
  }
}
