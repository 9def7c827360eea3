import { useMemo } from 'react';
import type { HandlerResult } from '../../pipeline/app/contract';
import { EChart, type ChartOption } from '../charts/echart';
import { Counter, Panel, formatDateTime, numberFormat } from '../components/ui';
import { policyName } from './policy-names';

/** The core's backtest report (model/evaluation/report-types.ts), as the model file carries it. */
export type BacktestReport = NonNullable<NonNullable<HandlerResult<'forecaster/status'>['model']>['backtest']>;
type BaselineKey = keyof BacktestReport['ci95']['baselines'];

const BASELINES: readonly BaselineKey[] = ['always_buy_now', 'rule_baseline', 'rule_tuned', 'frequency_baseline'];

const pct = (value: number) => `${value.toFixed(1)} %`;

/**
 * The buyer's backtest on the test period: the advice in use against every baseline (savings
 * captured with their 95 % intervals, how often and how much following it cost more than buying
 * at once), the forecast's quality with its reliability diagram, and the segments.
 */
export function BacktestReportView({ report }: { report: BacktestReport }) {
  const rows = [
    { key: 'advice', result: report, ci: report.ci95.savings_captured_pct as [number, number] | null, rule: `${policyName(report.policy)} (in use)` },
    { key: 'model', result: report.model, ci: null, rule: policyName('model') },
    ...BASELINES.map((key) => ({ key, result: report[key], ci: report.ci95.baselines[key], rule: 'rule' in report[key] ? (report[key] as { rule: string }).rule : policyName(key) })),
  ];
  const savingsChart = useMemo<ChartOption>(() => {
    const names = rows.map((r) => (r.key === 'advice' ? 'Advice in use' : policyName(r.key)));
    return {
      animation: false,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 200, right: 56, top: 8, bottom: 32 },
      xAxis: { type: 'value', name: '% of the clairvoyant’s savings (money-weighted)', nameLocation: 'middle', nameGap: 22 },
      yAxis: { type: 'category', data: names, inverse: true },
      series: [
        {
          name: 'Savings captured',
          type: 'bar',
          data: rows.map((r, i) => ({ value: r.result.savings_captured_pct, itemStyle: { color: i === 0 ? '#d9480f' : '#adb5bd' } })),
          label: { show: true, position: 'right', formatter: '{c} %' },
        },
        {
          // The 95 % interval (bootstrap over products) as a whisker across each bar.
          name: '95 % interval',
          type: 'custom',
          data: rows.flatMap((r, i) => (r.ci ? [[i, r.ci[0], r.ci[1]]] : [])),
          renderItem: (_params, api) => {
            const y = api.value(0) as number;
            const from = api.coord([api.value(1), y]) as [number, number];
            const to = api.coord([api.value(2), y]) as [number, number];
            const half = 6;
            const style = { stroke: '#1f2933', lineWidth: 1.5 };
            return {
              type: 'group',
              children: [
                { type: 'line', shape: { x1: from[0], y1: from[1], x2: to[0], y2: to[1] }, style },
                { type: 'line', shape: { x1: from[0], y1: from[1] - half, x2: from[0], y2: from[1] + half }, style },
                { type: 'line', shape: { x1: to[0], y1: to[1] - half, x2: to[0], y2: to[1] + half }, style },
              ],
            };
          },
          z: 10,
        },
      ],
    };
  }, [report]); // rows derive from report
  const reliability = useMemo<ChartOption>(
    () => ({
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { bottom: 0, data: ['Observed', 'Perfect calibration'] },
      grid: { left: 48, right: 16, top: 16, bottom: 56 },
      xAxis: { type: 'value', min: 0, max: 1, name: 'mean predicted p', nameLocation: 'middle', nameGap: 24 },
      yAxis: { type: 'value', min: 0, max: 1, name: 'observed drop rate' },
      series: [
        { name: 'Observed', type: 'line', data: report.forecast.reliability.filter((b) => b.count > 0).map((b) => [b.mean_p, b.observed_rate, b.count]), symbolSize: 8, color: '#d9480f' },
        { name: 'Perfect calibration', type: 'line', data: [[0, 0], [1, 1]], symbol: 'none', lineStyle: { type: 'dashed' }, color: '#868e96' },
      ],
    }),
    [report.forecast.reliability],
  );
  const diff = report.ci95.model_minus_best_baseline;
  return (
    <div className="backtest-report" data-testid="backtest-report">
      <Panel title="Backtest: the advice against every baseline" testId="backtest-baselines">
        <div className="muted small">
          {numberFormat.format(report.decisions)} decisions on {report.products} products, {formatDateTime(report.period.from)} – {formatDateTime(report.period.to)}; horizon {report.horizon_days} d, a drop is ≥ {report.min_drop_pct} %. The
          clairvoyant saves {pct(report.clairvoyant_avg_savings_pct)} per decision on average.
        </div>
        <EChart option={savingsChart} height={230} ariaLabel="Savings captured by policy, with 95 % intervals" />
        <div className="small" data-testid="backtest-difference">
          Advice in use − best baseline ({policyName(report.ci95.best_baseline)}): 95 % interval {diff[0].toFixed(1)} to {diff[1].toFixed(1)} points
          {diff[0] > 0 ? ': above it.' : diff[1] < 0 ? ': below it.' : ': not distinguishable from it.'}
        </div>
        <table className="table" data-testid="backtest-table">
          <thead>
            <tr>
              <th>Policy</th>
              <th>Savings captured</th>
              <th>by decision</th>
              <th>Worse than buying now</th>
              <th>Loss when worse (mean · p95)</th>
              <th>Waited</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} className={r.key === 'advice' ? 'highlight' : undefined}>
                <td>{r.rule}</td>
                <td>
                  {pct(r.result.savings_captured_pct)}
                  {r.ci && <span className="muted small"> [{r.ci[0].toFixed(1)}, {r.ci[1].toFixed(1)}]</span>}
                </td>
                <td>{pct(r.result.savings_captured_pct_by_decision)}</td>
                <td>{pct(r.result.worse_than_buy_now_pct)}</td>
                <td>
                  {pct(r.result.loss_when_worse_mean_pct)} · {pct(r.result.loss_when_worse_p95_pct)}
                </td>
                <td>{pct(r.result.waited_pct)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <div className="chart-pair">
        <Panel title="Forecast quality on the test period" testId="forecast-quality">
          <dl className="counters">
            <Counter label="ROC AUC" value={report.forecast.auc.toFixed(3)} />
            <Counter label="Brier" value={report.forecast.brier.toFixed(3)} />
            <Counter label="Brier skill" value={report.forecast.brier_skill.toFixed(3)} />
            <Counter label="Log loss" value={report.forecast.log_loss.toFixed(3)} />
            <Counter label="ECE" value={report.forecast.ece.toFixed(3)} />
            <Counter label="Days scored · dropped" value={`${numberFormat.format(report.forecast.rows)} · ${pct(100 * report.forecast.positives_rate)}`} />
          </dl>
        </Panel>
        <Panel title="Reliability" testId="reliability-chart">
          <EChart option={reliability} height={240} ariaLabel="Reliability: mean predicted probability versus observed drop rate" />
        </Panel>
      </div>
      <Panel title="By segment: savings captured" testId="backtest-segments">
        <table className="table">
          <thead>
            <tr>
              <th>Segment</th>
              <th>Decisions</th>
              <th>Products</th>
              <th>Advice</th>
              {BASELINES.map((key) => (
                <th key={key}>{policyName(key)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(['history_length', 'past_drop_frequency', 'price_band'] as const).flatMap((group) =>
              report.segments[group].map((s) => (
                <tr key={`${group}:${s.segment}`}>
                  <td>{s.segment}</td>
                  <td>{numberFormat.format(s.decisions)}</td>
                  <td>{s.products}</td>
                  <td>{pct(s.advice)}</td>
                  {BASELINES.map((key) => (
                    <td key={key}>{pct(s[key])}</td>
                  ))}
                </tr>
              )),
            )}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
