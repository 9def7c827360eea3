import { prepareData, type HistorySource } from '../decision-data';
import type { LoadedModel } from '../model-file';
import { scoreRange, scoringForestsOf } from '../scoring';
import type { BacktestReport } from './report-types';
import { evaluatePeriod } from './period-evaluation';
import { DAY_MS, isoDay } from '../../pipeline/base/time';

export interface ModelBacktestOptions {
  /** First and last decision day (epoch days); default: the model's test period. */
  fromDay?: number;
  toDay?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The backtest of a trained model over product histories: prepares them with the model's horizon
 * and minimum drop, scores the period's days with the model's forests, and replays the decisions
 * under the advice in use and every baseline (period-evaluation.ts), with the baselines'
 * parameters as chosen on validation at training time.
 */
export function backtestModel(source: HistorySource & { products: number }, model: LoadedModel, options: ModelBacktestOptions = {}): BacktestReport & { model_version: string } {
  const { horizon_days: h, min_drop_pct: x } = model.meta.options;
  const data = prepareData(source, { horizonDays: h, minDropPct: x, signal: options.signal, onProgress: (done) => options.onProgress?.(done, source.products * 2) });
  const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
  const range = {
    from: options.fromDay ?? day(model.meta.training_window.test_from),
    to: Math.min(options.toDay ?? day(model.meta.training_window.test_to), data.lastDay - h),
  };
  const trainRange = { from: day(model.meta.training_window.train_from), to: day(model.meta.training_window.train_to) };
  if (range.to < range.from) throw new Error(`no decision in ${isoDay(range.from)} .. ${isoDay(range.to)}: a decision needs ${h} days of prices after it`);
  const products = data.products.map((_, i) => i);
  const scores = scoreRange(data, scoringForestsOf(model), products, { from: range.from, to: range.to + h }, model.categoryCode, (done) => options.onProgress?.(source.products + done, source.products * 2));
  return { model_version: model.meta.model_version, ...evaluatePeriod(data, scores, range, model.meta.policy, trainRange) };
}
