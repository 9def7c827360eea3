import { describe, expect, it } from 'vitest';
import { CATEGORIES, MarketModel, createSimulatorSource, simulatedCatalogue } from './simulator';
import type { SourceChunk } from './source';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 25, 9, 30);

async function firstChunks(seed: number, count: number, backfillDays: number): Promise<SourceChunk[]> {
  const controller = new AbortController();
  const source = createSimulatorSource({ products: 50, seed, intervalSeconds: 60, backfillDays, now: () => NOW });
  const chunks: SourceChunk[] = [];
  for await (const chunk of source.read({ signal: controller.signal, log: () => undefined, countRetry: () => undefined, sleep: async () => undefined })) {
    chunks.push(chunk);
    if (chunks.length === count) break;
  }
  return chunks;
}

describe('market simulator', () => {
  it('is deterministic by seed and differs across seeds', async () => {
    const a = await firstChunks(7, 5, 3);
    const b = await firstChunks(7, 5, 3);
    const c = await firstChunks(8, 5, 3);
    expect(a).toEqual(b);
    expect(a.map((chunk) => chunk.records.map((r) => r.price))).not.toEqual(c.map((chunk) => chunk.records.map((r) => r.price)));
  });

  it('backfills one observation per product per day at 12:00 UTC, ending before now, then goes live', async () => {
    const chunks = await firstChunks(1, 4, 3);
    expect(chunks.map((chunk) => chunk.records[0]!.observed_at)).toEqual([
      '2026-11-22T12:00:00.000Z',
      '2026-11-23T12:00:00.000Z',
      '2026-11-24T12:00:00.000Z',
      '2026-11-25T09:30:00.000Z',
    ]);
    expect(chunks[2]!.seal).toBe(true);
    for (const chunk of chunks) expect(new Set(chunk.records.map((r) => r.product_id)).size).toBe(50);
  });

  it('covers realistic categories and several currencies, with old_price only above price', () => {
    const catalogue = simulatedCatalogue(300, 1);
    expect(new Set(catalogue.map((p) => p.category.name)).size).toBe(CATEGORIES.length);
    expect(new Set(catalogue.map((p) => p.currency))).toEqual(new Set(['USD', 'EUR', 'GBP', 'CAD']));
    const model = new MarketModel(1, catalogue);
    for (const product of catalogue.slice(0, 100)) {
      for (let day = 0; day < 60; day++) {
        const { price, oldPrice } = model.observe(product, NOW - day * DAY);
        expect(price).toBeGreaterThan(0);
        if (oldPrice !== null) expect(oldPrice).toBeGreaterThan(price);
      }
    }
  });

  it('runs promotions on a product-specific cycle, so drops recur at the same period', () => {
    const catalogue = simulatedCatalogue(40, 3);
    const model = new MarketModel(3, catalogue);
    const start = Math.floor(NOW / DAY) - 365;
    let periodic = 0;
    for (const product of catalogue) {
      const promoDays: number[] = [];
      for (let day = start; day < start + 365; day++) {
        const cyclePosition = day + product.promoPhase;
        if (cyclePosition % product.promoPeriod === 0 && model.discount(product, day) >= product.promoDepth * 0.8) promoDays.push(day);
      }
      // Most cycles start with a promotion (probability 0.8 each).
      if (promoDays.length >= Math.floor((365 / product.promoPeriod) * 0.5)) periodic++;
    }
    expect(periodic).toBeGreaterThan(catalogue.length * 0.8);
  });
});
