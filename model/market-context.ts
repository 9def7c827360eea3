import type { DayOutcomes, Episodes, Timeline } from './timeline';

/**
 * The cross-section: what the rest of the market does on a day, per source and per category of a
 * source. Store-wide sales move many products at once, so "a quarter of this source's products
 * went on a drop this week" says something about a product that has not moved yet.
 *
 * Per group and day: products tracked (known price), on a drop, starting an episode, and the
 * labels (drop within H days) of days whose horizon has fully passed. Queries on day t read days
 * ≤ t, and labels only of days ≤ t − H: nothing a buyer on day t could not know.
 */
interface GroupDays {
  tracked: Float64Array;
  onDrop: Float64Array;
  starts: Float64Array;
  labelSum: Float64Array;
  labelCount: Float64Array;
}

const FIELDS = ['tracked', 'onDrop', 'starts', 'labelSum', 'labelCount'] as const;
type Field = (typeof FIELDS)[number];

/** What the rest of a product's source or category (`scope`) does on a day (see MarketContext.view). */
export interface MarketView {
  /** Share of the group's tracked products on a drop on `day`. */
  onDropShare(scope: 'source' | 'category', day: number): number;
  /** Share of the group's tracked products that started an episode over the `days` days ending on `day`. */
  startShare(scope: 'source' | 'category', day: number, days?: number): number;
  /** Drop rate (label mean) of the group's days in [day − H − window, day − H]: labels known on `day`. */
  labelRate(scope: 'source' | 'category', day: number, windowDays?: number): number;
}

export class MarketContext {
  private readonly groups = new Map<string, GroupDays>();
  private finished = false;

  /** @param firstDay, lastDay the epoch days every timeline lies within. */
  constructor(
    readonly firstDay: number,
    readonly lastDay: number,
    readonly horizonDays: number,
  ) {}

  add(timeline: Timeline, episodes: Episodes, outcomes: DayOutcomes): void {
    if (this.finished) throw new Error('MarketContext: add after finish');
    for (const key of [sourceKey(timeline.source), categoryKey(timeline.source, timeline.category)]) {
      const group = this.group(key);
      const offset = timeline.firstDay - this.firstDay;
      for (let d = 0; d < timeline.price.length; d++) {
        if (Number.isNaN(timeline.price[d]!)) continue;
        const g = offset + d;
        group.tracked[g]! += 1;
        group.onDrop[g]! += episodes.onDrop[d]!;
        group.starts[g]! += episodes.starts[d]!;
        const label = outcomes.label[d]!;
        if (!Number.isNaN(label)) {
          group.labelSum[g]! += label;
          group.labelCount[g]! += 1;
        }
      }
    }
  }

  /** Turns the daily counts into prefix sums (index i = Σ of days before i): windows in O(1). */
  finish(): this {
    for (const group of this.groups.values()) {
      for (const field of FIELDS) {
        const daily = group[field];
        const prefix = new Float64Array(daily.length + 1);
        for (let i = 0; i < daily.length; i++) prefix[i + 1] = prefix[i]! + daily[i]!;
        group[field] = prefix;
      }
    }
    this.finished = true;
    return this;
  }

  /**
   * The queries for one product's source and category, with both groups looked up once (a
   * product's feature pass asks six times a day).
   */
  view(source: string, category: string): MarketView {
    if (!this.finished) throw new Error('MarketContext: query before finish');
    const groups = { source: this.groups.get(sourceKey(source)), category: this.groups.get(categoryKey(source, category)) };
    const { firstDay, horizonDays } = this;
    const ratio = (group: GroupDays | undefined, numerator: Field, denominator: Field, fromDay: number, toDay: number): number => {
      if (!group) return 0;
      const from = Math.max(0, fromDay - firstDay);
      const to = Math.min(group.tracked.length - 1, toDay - firstDay + 1);
      if (to <= from) return 0;
      const total = group[denominator][to]! - group[denominator][from]!;
      return total > 0 ? (group[numerator][to]! - group[numerator][from]!) / total : 0;
    };
    return {
      onDropShare: (scope, day) => ratio(groups[scope], 'onDrop', 'tracked', day, day),
      startShare: (scope, day, days = 7) => ratio(groups[scope], 'starts', 'tracked', day - days + 1, day) * days,
      labelRate: (scope, day, windowDays = 90) => ratio(groups[scope], 'labelSum', 'labelCount', day - horizonDays - windowDays, day - horizonDays),
    };
  }

  private group(key: string): GroupDays {
    let group = this.groups.get(key);
    if (!group) {
      const days = this.lastDay - this.firstDay + 1;
      group = { tracked: new Float64Array(days), onDrop: new Float64Array(days), starts: new Float64Array(days), labelSum: new Float64Array(days), labelCount: new Float64Array(days) };
      this.groups.set(key, group);
    }
    return group;
  }
}

function sourceKey(source: string): string {
  return `s\u0000${source}`;
}

function categoryKey(source: string, category: string): string {
  return `c\u0000${source}\u0000${category}`;
}
