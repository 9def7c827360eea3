/**
 * Writes the forecaster's own training and test tables (features + label, the time split that
 * `pricedrop train` uses) as numeric CSVs, so `pricedrop bench forest` and
 * model/bench/sklearn-reference.py can be compared on real features, not only synthetic ones:
 *
 *   npx tsx pipeline/forecasting/export-features.ts --workspace DIR --out /tmp/feat [--horizon-days 14] [--min-drop-pct 5]
 *
 * writes /tmp/feat/train.csv and /tmp/feat/test.csv with a 0/1 column "label".
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../model/features';
import { planSlices, prepareData, trainingTable, type FeatureTable } from '../../model/decision-data';
import { categoryCoder } from '../../model/model-file';
import { readWorkspaceHistories } from './workspace-cache';
import { parseArgs, numberFlag, requiredFlag } from '../base/command-line';

async function writeTable(file: string, table: FeatureTable): Promise<void> {
  const out = createWriteStream(file);
  out.write([...FEATURE_NAMES, 'label'].join(',') + '\n');
  for (let i = 0; i < table.rows; i++) {
    const cells: string[] = [];
    for (let f = 0; f < FEATURE_COUNT; f++) cells.push(String(table.x[i * FEATURE_COUNT + f]));
    cells.push(String(table.label[i]));
    if (!out.write(cells.join(',') + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

const args = parseArgs(process.argv.slice(2));
const outDir = requiredFlag(args, 'out');
const data = prepareData(readWorkspaceHistories(requiredFlag(args, 'workspace')), { horizonDays: numberFlag(args, 'horizon-days', 14), minDropPct: numberFlag(args, 'min-drop-pct', 5) });
const slices = planSlices(data);
const code = categoryCoder(data.categories);
const train = trainingTable(data, slices, code, Number.MAX_SAFE_INTEGER, 1);
const test = trainingTable(data, { ...slices, train: slices.test }, code, Number.MAX_SAFE_INTEGER, 1);
mkdirSync(outDir, { recursive: true });
await writeTable(join(outDir, 'train.csv'), train);
await writeTable(join(outDir, 'test.csv'), test);
process.stdout.write(JSON.stringify({ train: join(outDir, 'train.csv'), test: join(outDir, 'test.csv'), rows_train: train.rows, rows_test: test.rows, features: FEATURE_COUNT }) + '\n');
