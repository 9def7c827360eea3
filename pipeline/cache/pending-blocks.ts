/**
 * The observation writer's rows in waiting: for each product, the rows accepted in the open
 * write, already encoded as the data of its next block (observation-blocks.ts), in a region of
 * one arena. A flush inserts each region as it is, so the costly part of writing a block (the
 * digits) happens as rows arrive, while the thread that encodes them works in parallel, and not
 * at commit, when nothing else can. docs/decisions/0010-observation-blocks.md.
 *
 * Rows come in time order per product (later rows go elsewhere: the writer's late rows). Each
 * product's rows share one layout: the previous write's, if the row fits it, else one fitted to
 * the rows so far plus a digit of room, which rewrites the region (rarely: layouts settle after
 * a product's first rows).
 */
import { blockRecord, decodeBlock, decodeTimes, fitLayout, MAX_BLOCK_ROWS, rowBytes, rowColumns, writeRow, type BlockLayout, type BlockRecord, type RowColumns } from './observation-blocks';

/** t offsets of a product's first pending row get this many digits: 115 days of ms (fewer rewrites). */
const FIRST_T_DIGITS = 10;
/** Fields per product in PendingBlocks.state. */
const N = 0; // pending rows (0: none)
const AT = 1; // their bytes start here in the arena
const END = 2; // the region reserved for them ends here
const T0 = 3; // t of the first row (t fields are offsets from it)
const DESCRIPTOR = 4; // the rows' descriptor, while the layout has no descriptor field
const LAYOUT = 5; // index of the layout in `layouts` (-1: none yet)
const BYTES = 6; // bytes of a row under it
const PREVIOUS = 7; // rows of the product's previous write (sizes its next region)
const STRIDE = 8;

function layoutKey(l: BlockLayout): string {
  return `${l.wT},${l.wDescriptor},${l.wPrice},${l.wOldPrice},${l.wDropAmount},${l.wDropPct},${l.sPrice},${l.sOldPrice},${l.sDropAmount},${l.sDropPct}`;
}

export class PendingBlocks {
  /** Per product id: STRIDE fields (one cache line). */
  private state = new Float64Array(0);
  private arena = Buffer.alloc(0);
  private used = 0;
  /** The distinct layouts (products share them: a product holds an index). */
  private layouts: BlockLayout[] = [];
  private layoutIndex = new Map<string, number>();
  private scratch: RowColumns = rowColumns(MAX_BLOCK_ROWS);

  /** Bytes the arena holds (the writer writes early above a bound). */
  get bytes(): number {
    return this.used;
  }

  /** Room for product ids below `size`. */
  ensure(size: number): void {
    const have = this.state.length / STRIDE;
    if (size <= have) return;
    const grown = new Float64Array(Math.max(1024, size, have * 2) * STRIDE);
    grown.set(this.state);
    for (let at = this.state.length; at < grown.length; at += STRIDE) grown[at + LAYOUT] = -1;
    this.state = grown;
  }

  /** Rows pending for a product. */
  count(id: number): number {
    return this.state[id * STRIDE + N] as number;
  }

  /** Appends a row of product `id`, later than its pending rows. */
  append(id: number, t: number, d: number, p: number, o: number, a: number, c: number, flags: number): void {
    const at = id * STRIDE;
    const state = this.state;
    const n = state[at + N] as number;
    const layout = state[at + LAYOUT] as number;
    if (n === 0) {
      if (layout >= 0) {
        // A region under the product's previous layout, sized by its previous write: it mostly fits again.
        const bytes = state[at + BYTES] as number;
        const capacity = Math.max(16, Math.min(MAX_BLOCK_ROWS, (state[at + PREVIOUS] as number) + 4));
        const region = this.reserve(capacity * bytes);
        if (writeRow(this.arena, region, this.layouts[layout] as BlockLayout, t, d, t, d, p, o, a, c, flags)) {
          state[at + AT] = region;
          state[at + END] = region + capacity * bytes;
          state[at + T0] = t;
          state[at + DESCRIPTOR] = d;
          state[at + N] = 1;
          return;
        }
      }
      this.relayout(id, t, d, p, o, a, c, flags);
      return;
    }
    const bytes = state[at + BYTES] as number;
    let pos = (state[at + AT] as number) + n * bytes;
    if (pos + bytes > (state[at + END] as number)) {
      // Twice the room at the arena's end.
      const used = n * bytes;
      const region = this.reserve(2 * used);
      this.arena.copy(this.arena, region, state[at + AT] as number, (state[at + AT] as number) + used);
      state[at + AT] = region;
      state[at + END] = region + 2 * used;
      pos = region + used;
    }
    if (writeRow(this.arena, pos, this.layouts[layout] as BlockLayout, state[at + T0] as number, state[at + DESCRIPTOR] as number, t, d, p, o, a, c, flags)) {
      state[at + N] = n + 1;
      return;
    }
    this.relayout(id, t, d, p, o, a, c, flags);
  }

  /**
   * The product's pending rows as a block record (its data a view of the arena, valid until the
   * next append or clear); `tLast`, `lastPrice`, `lastDescriptor`: its last pending row's.
   */
  block(id: number, tLast: number, lastPrice: number, lastDescriptor: number): BlockRecord {
    const at = id * STRIDE;
    const state = this.state;
    return blockRecord(this.layouts[state[at + LAYOUT] as number] as BlockLayout, this.arena, state[at + AT] as number, state[at + N] as number, state[at + T0] as number, tLast, lastPrice, lastDescriptor);
  }

  /** The observed_at of each of the product's pending rows. */
  times(id: number): Float64Array {
    const times = new Float64Array(this.count(id));
    if (times.length > 0) decodeTimes(this.rowsOf(id), times);
    return times;
  }

  /** Decodes the product's pending rows into `into` at `at`; returns their count. */
  decode(id: number, into: RowColumns, at = 0): number {
    return this.count(id) === 0 ? 0 : decodeBlock(this.rowsOf(id), into, at);
  }

  /** The pending rows as a record to decode (the last-row columns are the block descriptor's, for a layout without a descriptor field). */
  private rowsOf(id: number): BlockRecord {
    return this.block(id, NaN, NaN, this.state[id * STRIDE + DESCRIPTOR] as number);
  }

  /** After the product's rows were written: none pending, and its next region sized by this write. */
  written(id: number): void {
    const at = id * STRIDE;
    this.state[at + PREVIOUS] = this.state[at + N] as number;
    this.state[at + N] = 0;
  }

  /** Empties the arena (every product's rows were written). */
  clear(): void {
    this.used = 0;
  }

  /** Forgets everything (a rolled-back transaction). */
  reset(): void {
    this.state = new Float64Array(0);
    this.used = 0;
  }

  /** Reserves `bytes` in the arena, growing it (regions are offsets: they survive the move). */
  private reserve(bytes: number): number {
    if (this.used + bytes > this.arena.length) {
      const grown = Buffer.alloc(Math.max(1 << 20, this.arena.length * 2, this.used + bytes));
      this.arena.copy(grown, 0, 0, this.used);
      this.arena = grown;
    }
    const at = this.used;
    this.used += bytes;
    return at;
  }

  private intern(l: BlockLayout): number {
    const key = layoutKey(l);
    let index = this.layoutIndex.get(key);
    if (index === undefined) {
      index = this.layouts.push(l) - 1;
      this.layoutIndex.set(key, index);
    }
    return index;
  }

  /** Writes the product's pending rows again, and one more, under a layout fitted to them all, in a new region with room to grow. */
  private relayout(id: number, t: number, d: number, p: number, o: number, a: number, c: number, flags: number): void {
    const at = id * STRIDE;
    const state = this.state;
    const n = state[at + N] as number;
    if (this.scratch.t.length < n + 1) this.scratch = rowColumns(Math.max(n + 1, this.scratch.t.length * 2));
    const rows = this.scratch;
    this.decode(id, rows);
    rows.t[n] = t;
    rows.descriptor[n] = d;
    rows.price[n] = p;
    rows.oldPrice[n] = o;
    rows.dropAmount[n] = a;
    rows.dropPct[n] = c;
    rows.flags[n] = flags;
    const t0 = n > 0 ? (state[at + T0] as number) : t;
    const fitted = fitLayout(rows, 0, n + 1, t0, 1);
    if (n === 0) fitted.wT = Math.max(fitted.wT, FIRST_T_DIGITS);
    const index = this.intern(fitted);
    const l = this.layouts[index] as BlockLayout;
    const bytes = rowBytes(l);
    const capacity = Math.max(2 * n, Math.min(MAX_BLOCK_ROWS, (state[at + PREVIOUS] as number) + 4), 16);
    const region = this.reserve(capacity * bytes);
    const blockDescriptor = rows.descriptor[0] as number;
    for (let k = 0; k <= n; k++) {
      const ok = writeRow(this.arena, region + k * bytes, l, t0, blockDescriptor, rows.t[k] as number, rows.descriptor[k] as number, rows.price[k] as number, rows.oldPrice[k] as number, rows.dropAmount[k] as number, rows.dropPct[k] as number, rows.flags[k] as number);
      // Only a value no block can hold gets here (not a finite number, t not whole ms): the rules never produce one.
      if (!ok) throw new Error(`observation writer: the row at ${new Date(rows.t[k] as number).toISOString()} cannot be stored (a value is not a finite number, or observed_at is not whole ms)`);
    }
    state[at + AT] = region;
    state[at + END] = region + capacity * bytes;
    state[at + T0] = t0;
    state[at + DESCRIPTOR] = blockDescriptor;
    state[at + LAYOUT] = index;
    state[at + BYTES] = bytes;
    state[at + N] = n + 1;
  }
}
