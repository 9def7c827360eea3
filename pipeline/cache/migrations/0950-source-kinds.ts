import type { Migration } from '../migrations';

/**
 * Each source's kind (pipeline/forecasting/source-kinds.ts): a *snapshots* source lists every
 * tracked product at each scrape, so a product missing from one is unknown; a *changes* source
 * (a change log) only records new prices, so no row means the price held. `detected` is 0 when
 * the user said it (`pricedrop import --kind`), and detection never overwrites that.
 */
export const migration: Migration = {
  id: '0950-source-kinds',
  sql: `
    CREATE TABLE source_kinds (
      source       TEXT    PRIMARY KEY,
      kind         TEXT    NOT NULL CHECK (kind IN ('snapshots', 'changes')),
      detected     INTEGER NOT NULL,  -- 1: detected from the data; 0: given by the user
      repeat_share REAL               -- share of consecutive rows of a product that repeat its price; NULL when not measured
    );
  `,
};
