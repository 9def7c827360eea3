/**
 * Writes the forecaster's own training and test tables (features + label, the time split that
 * `pricedrop train` uses) as numeric CSVs, so `pricedrop bench forest` and
 * model/bench/sklearn-reference.py can be compared on real features, not only synthetic ones:
 *
 *   npx tsx model/bench/export-features.ts --workspace DIR --out /tmp/feat [--horizon-days 14] [--min-drop-pct 5]
 *
 * writes /tmp/feat/train.csv and /tmp/feat/test.csv with a 0/1 column "label".
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_COUNT, FEATURE_NAMES } from '../features';
import { buildDataset, timeSplit, type Dataset } from '../dataset';
import { openWorkspaceCache } from '../training';
import { parseArgs, numberFlag, requiredFlag } from '../../pipeline/cli/command';

async function writeTable(file: string, dataset: Dataset, rows: Int32Array): Promise<void> {
  const out = createWriteStream(file);
  out.write([...FEATURE_NAMES, 'label'].join(',') + '\n');
  for (const i of rows) {
    const cells: string[] = [];
    for (let f = 0; f < FEATURE_COUNT; f++) cells.push(String(dataset.x[i * FEATURE_COUNT + f]));
    cells.push(String(dataset.label[i]));
    if (!out.write(cells.join(",") + "\n")) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

const args = parseArgs(process.argv.slice(2));
const outDir = requiredFlag(args, 'out');
const db = openWorkspaceCache(requiredFlag(args, 'workspace'));
const dataset = buildDataset(db, { horizonDays: numberFlag(args, 'horizon-days', 14), minDropPct: numberFlag(args, 'min-drop-pct', 5) });
db.close();
const split = timeSplit(dataset);
mkdirSync(outDir, { recursive: true });
await writeTable(join(outDir, 'train.csv'), dataset, split.train);
await writeTable(join(outDir, 'test.csv'), dataset, split.test);
process.stdout.write(JSON.stringify({ train: join(outDir, 'train.csv'), test: join(outDir, 'test.csv'), rows_train: split.train.length, rows_test: split.test.length, features: FEATURE_COUNT }) + '\n');
