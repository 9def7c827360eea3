import type { Migration } from '../migrations';

export const migration: Migration = {
  id: '0100-app-tasks-alerts',
  sql: `
    -- The desktop app's long actions (ETL run, crawl, sync, training...): a persisted run history.
    CREATE TABLE task_runs (
      id           TEXT PRIMARY KEY,
      kind         TEXT NOT NULL,
      label        TEXT NOT NULL,
      status       TEXT NOT NULL,             -- running | succeeded | failed | cancelled
      started_at   TEXT NOT NULL,
      finished_at  TEXT,
      done         REAL NOT NULL DEFAULT 0,
      total        REAL,
      message      TEXT,                      -- the last progress label, or the error's message
      result       TEXT                       -- JSON summary of a finished run
    );
    CREATE INDEX task_runs_started ON task_runs (started_at);

    -- Alert rules: per product or per category.
    CREATE TABLE alert_rules (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      scope        TEXT NOT NULL,             -- product | category
      source       TEXT,                      -- the product's source (scope product)
      target       TEXT NOT NULL,             -- product_id or category
      kind         TEXT NOT NULL,             -- price_below | drop_pct | predicted_drop
      threshold    REAL NOT NULL,             -- price, percent, or confidence (0..1)
      enabled      INTEGER NOT NULL DEFAULT 1,
      created_at   TEXT NOT NULL
    );

    -- Alerts that fired: one per rule, product and UTC day at most.
    CREATE TABLE alert_events (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      rule_id      INTEGER NOT NULL,
      source       TEXT NOT NULL,
      product_id   TEXT NOT NULL,
      day          TEXT NOT NULL,             -- YYYY-MM-DD (UTC) of firing
      fired_at     TEXT NOT NULL,
      title        TEXT NOT NULL,
      message      TEXT NOT NULL,
      price        REAL,
      seen         INTEGER NOT NULL DEFAULT 0,
      UNIQUE (rule_id, source, product_id, day)
    );
    CREATE INDEX alert_events_day ON alert_events (day);
  `,
};
