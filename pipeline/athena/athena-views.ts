import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../base/paths';

/** The Power BI views, created in Athena by `cloud setup` and in the cache by migration 0501. */
export const VIEW_NAMES = ['v_price_drop_kpis', 'v_drop_trend_daily', 'v_category_drops', 'v_product_latest'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** Folder of the Athena `.sql` files (shipped with the package, like glue/). */
export function athenaSqlDir(): string {
  return join(packageRoot(), 'pipeline', 'athena', 'sql');
}

/** The `CREATE OR REPLACE VIEW` statement of a view, comments stripped (Athena takes one statement). */
export function athenaViewSql(name: ViewName, dir = athenaSqlDir()): string {
  const text = readFileSync(join(dir, `${name}.sql`), 'utf8');
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .trim()
    .replace(/;\s*$/, '');
}

/** The output column names of a view's SELECT (its top-level `AS alias` / bare names), for checks. */
export function athenaViewColumns(name: ViewName, dir = athenaSqlDir()): string[] {
  const sql = athenaViewSql(name, dir);
  const select = /AS\s+SELECT\s+([\s\S]+?)\s+FROM\s/i.exec(sql)?.[1] ?? '';
  const columns: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of select + ',') {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      const item = current.trim();
      const alias = /\bAS\s+([A-Za-z_][A-Za-z0-9_]*)$/i.exec(item)?.[1] ?? /([A-Za-z_][A-Za-z0-9_]*)$/.exec(item)?.[1];
      if (alias) columns.push(alias);
      current = '';
    } else current += ch;
  }
  return columns;
}
