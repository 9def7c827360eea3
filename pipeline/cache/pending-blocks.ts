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
 *
 * A product's pending state is PENDING_FIELDS numbers that the caller keeps (the writer keeps
 * them on the cache line after its own record of the product: a separate array cost a cache miss
 * a row); every method takes that array and the index of the product's first field.
 */
import { blockRecord, decodeBlock, decodeTimes, fitLayout, MAX_BLOCK_ROWS, rowBytes, rowColumns, setRow, wordView, writeRow, type BlockLayout, type BlockRecord, type RowColumns } from './observation-blocks';

/** t offsets of a product's first pending row get this many digits: 115 days of ms (fewer rewrites). */
const FIRST_T_DIGITS = 10;
/** Fields of a product's pending state. */
const N = 0; // pending rows (0: none)
const AT = 1; // their bytes start here in the arena
const END = 2; // the region reserved for them ends here
const T0 = 3; // t of the first row (t fields are offsets from it)
const DESCRIPTOR = 4; // the rows' descriptor, while the layout has no descriptor field
const LAYOUT = 5; // index of the layout in `layouts` (-1: none yet)
const BYTES = 6; // bytes of a row under it
const PREVIOUS = 7; // rows of the product's previous write (sizes its next region)
export const PENDING_FIELDS = 8;

/** A product's pending state before its first row. */
export function initPending(state: Float64Array, at: number): void {
  state.fill(0, at, at + PENDING_FIELDS);
  state[at + LAYOUT] = -1;
}

function layoutKey(l: BlockLayout): string {
  return `${l.wT},${l.wDescriptor},${l.wPrice},${l.wOldPrice},${l.wDropAmount},${l.wDropPct},${l.sPrice},${l.sOldPrice},${l.sDropAmount},${l.sDropPct}`;
}

export class PendingBlocks {
  private arena = Buffer.alloc(0);
  private view = wordView(this.arena);
  private used = 0;
  /** The distinct layouts (products share them: a product holds an index). */
  private layouts: BlockLayout[] = [];
  private layoutIndex = new Map<string, number>();
  private scratch: RowColumns = rowColumns(MAX_BLOCK_ROWS);

  /** Bytes the arena holds (the writer writes early above a bound). */
  get bytes(): number {
    return this.used;
  }

  /** Rows pending for a product. */
  count(state: Float64Array, at: number): number {
    return state[at + N] as number;
  }

  /** Appends a row of a product, later than its pending rows. */
  append(state: Float64Array, at: number, t: number, d: number, p: number, o: number, a: number, c: number, flags: number): void {
    const n = state[at + N] as number;
    const layout = state[at + LAYOUT] as number;
    if (n === 0) {
      if (layout >= 0) {
        // A region under the product's previous layout, sized by its previous write: it mostly fits again.
        const bytes = state[at + BYTES] as number;
        const capacity = Math.max(16, Math.min(MAX_BLOCK_ROWS, (state[at + PREVIOUS] as number) + 4));
        const region = this.reserve(capacity * bytes);
        if (writeRow(this.arena, this.view, region, this.layouts[layout] as BlockLayout, t, d, t, d, p, o, a, c, flags)) {
          state[at + AT] = region;
          state[at + END] = region + capacity * bytes;
          state[at + T0] = t;
          state[at + DESCRIPTOR] = d;
          state[at + N] = 1;
          return;
        }
      }
      this.relayout(state, at, t, d, p, o, a, c, flags);
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
    if (writeRow(this.arena, this.view, pos, this.layouts[layout] as BlockLayout, state[at + T0] as number, state[at + DESCRIPTOR] as number, t, d, p, o, a, c, flags)) {
      state[at + N] = n + 1;
      return;
    }
    this.relayout(state, at, t, d, p, o, a, c, flags);
  }

  /**
   * The product's pending rows as a block record (its data a view of the arena, valid until the
   * next append or clear); `tLast`, `lastPrice`, `lastDescriptor`: its last pending row's.
   */
  block(state: Float64Array, at: number, tLast: number, lastPrice: number, lastDescriptor: number): BlockRecord {
    return blockRecord(this.layouts[state[at + LAYOUT] as number] as BlockLayout, this.arena, state[at + AT] as number, state[at + N] as number, state[at + T0] as number, tLast, lastPrice, lastDescriptor);
  }

  /** The observed_at of each of the product's pending rows. */
  times(state: Float64Array, at: number): Float64Array {
    const times = new Float64Array(this.count(state, at));
    if (times.length > 0) decodeTimes(this.rowsOf(state, at), times);
    return times;
  }

  /** Decodes the product's pending rows into `into` (from row 0); returns their count. */
  decode(state: Float64Array, at: number, into: RowColumns): number {
    return this.count(state, at) === 0 ? 0 : decodeBlock(this.rowsOf(state, at), into);
  }

  /** The pending rows as a record to decode (the last-row columns are the block descriptor's, for a layout without a descriptor field). */
  private rowsOf(state: Float64Array, at: number): BlockRecord {
    return this.block(state, at, NaN, NaN, state[at + DESCRIPTOR] as number);
  }

  /** After the product's rows were written: none pending, and its next region sized by this write. */
  written(state: Float64Array, at: number): void {
    state[at + PREVIOUS] = state[at + N] as number;
    state[at + N] = 0;
  }

  /** Empties the arena (every product's rows were written). */
  clear(): void {
    this.used = 0;
  }


  /** Reserves `bytes` in the arena, growing it (regions are offsets: they survive the move). */
  private reserve(bytes: number): number {
    if (this.used + bytes > this.arena.length) {
      const grown = Buffer.alloc(Math.max(1 << 20, this.arena.length * 2, this.used + bytes));
      this.arena.copy(grown, 0, 0, this.used);
      this.arena = grown;
      this.view = wordView(grown);
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
  private relayout(state: Float64Array, at: number, t: number, d: number, p: number, o: number, a: number, c: number, flags: number): void {
    const n = state[at + N] as number;
    if (this.scratch.t.length < n + 1) this.scratch = rowColumns(Math.max(n + 1, this.scratch.t.length * 2));
    const rows = this.scratch;
    this.decode(state, at, rows);
    setRow(rows, n, t, d, p, o, a, c, flags);
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
      const ok = writeRow(this.arena, this.view, region + k * bytes, l, t0, blockDescriptor, rows.t[k] as number, rows.descriptor[k] as number, rows.price[k] as number, rows.oldPrice[k] as number, rows.dropAmount[k] as number, rows.dropPct[k] as number, rows.flags[k] as number);
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
