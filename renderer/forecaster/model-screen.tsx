import { useEffect, useMemo, useState } from 'react';
import { invoke, on } from '../api-client';
import type { HandlerResult } from '../../pipeline/app/contract';
import { EChart, type ChartOption } from '../charts/echart';
import { Counter, EmptyState, ErrorBanner, Panel, ProgressBar, formatDateTime, numberFormat, useLoad } from '../components/ui';
import { RunHistory, TaskStatus, useTasks } from '../components/tasks';
import { BacktestReportView } from './backtest-report';
import { policyName } from './policy-names';

type ModelMeta = NonNullable<HandlerResult<'model/status'>['model']>;
type ForecasterStatus = HandlerResult<'forecaster/status'>;

/** The forecaster: train with progress, the model in use with its metrics, calibration and feature importance, and the runs. */
export function ModelScreen() {
  const tasks = useTasks(['train', 'backtest', 'publish'], 20);
  const [version, setVersion] = useState(0);
  useEffect(() => on('task/updated', (run) => run.kind === 'train' && run.status !== 'running' && setVersion((v) => v + 1)), []);
  // New data moves the history counts and the next retrain condition.
  useEffect(() => on('data/changed', () => setVersion((v) => v + 1)), []);
  const status = useLoad(() => invoke('model/status'), [version]);
  const forecaster = useLoad(() => invoke('forecaster/status'), [version]);
  const [trees, setTrees] = useState('50');
  const [horizon, setHorizon] = useState('14');
  const [minDrop, setMinDrop] = useState('5');
  const training = tasks.running('train');
  const model = status.value?.model ?? null;

  return (
    <section className="screen model" aria-label="Model">
      <div className="two-columns wide-right">
        <div className="column-left">
          <Panel title="Train" testId="train-panel">
            <form
              className="stack-form"
              onSubmit={(e) => {
                e.preventDefault();
                void tasks.start(() => invoke('model/train', { trees: Number(trees), horizonDays: Number(horizon), minDropPct: Number(minDrop) }));
              }}
            >
              <label>
                Trees
                <input type="number" min="1" max="1000" value={trees} onChange={(e) => setTrees(e.target.value)} data-testid="train-trees" />
              </label>
              <label>
                Horizon (days): a drop within this many days
                <input type="number" min="1" max="365" value={horizon} onChange={(e) => setHorizon(e.target.value)} />
              </label>
              <label>
                Minimum drop (%) that counts
                <input type="number" min="0.1" max="90" step="0.1" value={minDrop} onChange={(e) => setMinDrop(e.target.value)} />
              </label>
              <button type="submit" className="button primary" disabled={!!training} data-testid="train-start">
                {training ? 'Training…' : 'Train a new model'}
              </button>
            </form>
            <ErrorBanner error={tasks.error} />
            <TaskStatus run={tasks.latest('train')} testId="train-status" />
          </Panel>
          <PublishPanel tasks={tasks} hasModel={!!model} />
          <Panel title="Runs">
            <RunHistory runs={tasks.runs} testId="model-runs" compact />
          </Panel>
        </div>
        <div className="column-right">
          <ErrorBanner error={status.error ?? forecaster.error} onRetry={status.error ? status.reload : forecaster.reload} />
          {forecaster.value && <ForecasterPanel status={forecaster.value} training={training} />}
          {status.value && !model && (
            <EmptyState title="No model yet" testId="model-empty">
              {forecaster.value?.auto_train
                ? 'The forecaster trains one by itself once the cache holds enough history (see above), or train one now with the form on the left.'
                : 'Train one with the form on the left: it learns from the cache’s price histories (a minute or two for a few hundred products).'}
            </EmptyState>
          )}
          {model && forecaster.value?.model && <TrainedOn model={forecaster.value.model} />}
          {forecaster.value?.model && <BacktestReportView report={forecaster.value.model.backtest} />}
          {forecaster.value && <SourceKinds sources={forecaster.value.sources} />}
          {model && <ModelDetails model={model} />}
          {model && <BacktestPanel tasks={tasks} />}
        </div>
      </div>
    </section>
  );
}

/** Whether the forecaster trains by itself, what it waits for next, and the training under way. */
function ForecasterPanel({ status, training }: { status: ForecasterStatus; training: ReturnType<ReturnType<typeof useTasks>['running']> }) {
  return (
    <Panel title="Forecaster" testId="forecaster-status">
      <dl className="counters">
        <Counter label="Automatic training" value={status.auto_train ? `on (+${status.retrain_growth_pct} % data or ${status.retrain_interval_hours} h)` : 'off'} />
        <Counter label="History in the cache" value={`${status.history.days} days · ${numberFormat.format(status.history.product_days)} product-days`} />
        <Counter label="Products" value={status.history.products} />
      </dl>
      {training ? (
        <div data-testid="forecaster-training">
          <div className="small">{training.label}</div>
          <ProgressBar done={training.done} total={training.total} label={training.message ?? training.label} />
        </div>
      ) : (
        <div className="muted small" data-testid="forecaster-next">
          {status.next.reason}
        </div>
      )}
      {status.model_problem && <div className="banner warn">The workspace’s model file cannot be used ({status.model_problem}); it is replaced like a missing one.</div>}
      {status.last_failure && <div className="banner warn">The last automatic training failed ({status.last_failure.message}); it is tried again when more data arrives.</div>}
    </Panel>
  );
}

/** When the model in use was trained, on what, and which advice it gives and why. */
function TrainedOn({ model }: { model: NonNullable<ForecasterStatus['model']> }) {
  const on = model.trained_on;
  return (
    <Panel title="Model in use" testId="model-in-use">
      <dl className="counters">
        <Counter label="Version" value={model.version} />
        <Counter label="Trained" value={formatDateTime(model.trained_at)} />
        <Counter label="On data from" value={`${formatDateTime(on.from)} – ${formatDateTime(on.to)}`} />
        <Counter label="Products · decision days" value={`${numberFormat.format(on.products)} · ${numberFormat.format(on.decision_days)}`} />
        <Counter label="Horizon · min drop" value={`${model.horizon_days} d · ${model.min_drop_pct} %`} />
      </dl>
      <div className="small" data-testid="model-policy">
        <strong>Advice in use: {policyName(model.policy)}.</strong> {model.policy_reason}
      </div>
      <table className="table" data-testid="model-slices">
        <thead>
          <tr>
            <th>Slice</th>
            <th>From</th>
            <th>To</th>
            <th>Days</th>
            <th>Products</th>
            <th>Decision days</th>
          </tr>
        </thead>
        <tbody>
          {(['train', 'validation', 'test'] as const).map((name) => {
            const slice = model.slices[name];
            return (
              <tr key={name}>
                <td>{name}</td>
                <td>{formatDateTime(slice.from)}</td>
                <td>{formatDateTime(slice.to)}</td>
                <td>{numberFormat.format(slice.days)}</td>
                <td>{numberFormat.format(slice.products)}</td>
                <td>{numberFormat.format(slice.decisions)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}

const KIND_WORDS = { snapshots: 'snapshots: a product missing from one is unknown', changes: 'change log: no row means the price held' };

/** Each source's kind, and whether the user said it or it was detected. */
function SourceKinds({ sources }: { sources: ForecasterStatus['sources'] }) {
  return (
    <Panel title="Sources" testId="source-kinds">
      {sources.length === 0 ? (
        <p className="muted">No source has enough rows yet to tell snapshots from a change log.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Source</th>
              <th>Kind</th>
              <th>How known</th>
            </tr>
          </thead>
          <tbody>
            {sources.map((s) => (
              <tr key={s.source}>
                <td>{s.source}</td>
                <td>{KIND_WORDS[s.kind]}</td>
                <td>
                  {s.detected ? 'detected' : 'given with import --kind'}
                  {s.repeat_share !== null && ` (${Math.round(s.repeat_share * 100)} % of consecutive rows repeat the price)`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** What the drop classifier looks at (the backtest panel has its quality and reliability). */
function ModelDetails({ model }: { model: ModelMeta }) {
  const importance = useMemo<ChartOption>(() => {
    const top = [...model.importance].slice(0, 10).reverse();
    return {
      animation: false,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 170, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: top.map((f) => f.feature) },
      series: [{ type: 'bar', data: top.map((f) => Math.round(f.importance * 1000) / 1000), color: '#1f2933' }],
    };
  }, [model.importance]);
  return (
    <div className="model-details" data-testid="model-details">
      <Panel title="What the model looks at">
        <EChart option={importance} height={260} ariaLabel="Feature importance" />
        <div className="muted small">
          {model.feature_schema.names.length} features; {model.options.trees} trees of depth {model.options.max_depth}; data up to {formatDateTime(model.training_window.data_end)}.
        </div>
      </Panel>
    </div>
  );
}

function PublishPanel({ tasks, hasModel }: { tasks: ReturnType<typeof useTasks>; hasModel: boolean }) {
  const [out, setOut] = useState('');
  const latest = tasks.latest('publish');
  const report = latest?.status === 'succeeded' ? (latest.result as { out: string; products: number; bytes: number; sha256: string } | null) : null;
  return (
    <Panel title="Publish for the web endpoint" testId="publish-panel">
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          void tasks.start(() => invoke('model/publish', out.trim() ? { out: out.trim() } : {}));
        }}
      >
        <label>
          Bundle location (a file path or s3://bucket/key; empty: the workspace’s bundles/ folder)
          <input value={out} onChange={(e) => setOut(e.target.value)} placeholder="s3://my-bucket/pricedrop/current.pdbundle" data-testid="publish-out" />
        </label>
        <button type="submit" className="button" disabled={!hasModel || !!tasks.running('publish')} data-testid="publish-start">
          Publish bundle
        </button>
      </form>
      <TaskStatus run={latest} testId="publish-status" />
      {report && (
        <div className="muted small" data-testid="publish-report">
          {report.products} products → <span className="mono">{report.out}</span> ({(report.bytes / 1024).toFixed(0)} KiB, sha256 {report.sha256.slice(0, 12)}…). A server watching it swaps it in live.
        </div>
      )}
    </Panel>
  );
}

interface PolicyFigures {
  savings_captured_pct: number;
  worse_than_buy_now_pct: number;
  waited_pct: number;
  avg_savings_pct_per_decision: number;
}

interface BacktestResult extends PolicyFigures {
  decisions: number;
  products: number;
  horizon_days: number;
  period: { from: string; to: string };
  always_buy_now: PolicyFigures;
  rule_baseline: PolicyFigures & { rule: string };
}

/** The buying backtest: share of a clairvoyant buyer's savings the advice captures, against simple policies. */
function BacktestPanel({ tasks }: { tasks: ReturnType<typeof useTasks> }) {
  const latest = tasks.latest('backtest');
  const result = latest?.status === 'succeeded' ? (latest.result as BacktestResult | null) : null;
  const option = useMemo<ChartOption | null>(() => {
    if (!result) return null;
    const rows = [
      { name: 'Always buy now', value: result.always_buy_now.savings_captured_pct },
      { name: 'Rule baseline', value: result.rule_baseline.savings_captured_pct },
      { name: 'PriceDrop model', value: result.savings_captured_pct },
    ];
    return {
      animation: false,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 120, right: 48, top: 8, bottom: 28 },
      xAxis: { type: 'value', name: '% of clairvoyant savings', nameLocation: 'middle', nameGap: 22 },
      yAxis: { type: 'category', data: rows.map((r) => r.name) },
      series: [{ type: 'bar', data: rows.map((r, i) => ({ value: r.value, itemStyle: { color: i === 2 ? '#d9480f' : '#868e96' } })), label: { show: true, position: 'right', formatter: '{c} %' } }],
    };
  }, [result]);
  return (
    <Panel
      title="Backtest: following the advice"
      testId="backtest-panel"
      actions={
        <button type="button" className="button small" disabled={!!tasks.running('backtest')} onClick={() => void tasks.start(() => invoke('model/backtest'))} data-testid="backtest-start">
          Run backtest
        </button>
      }
    >
      <TaskStatus run={latest} testId="backtest-status" />
      {!latest && <p className="muted">A buyer who must buy within the horizon waits while the advice says Wait: how much of a clairvoyant buyer’s savings does that capture?</p>}
      {result && option && (
        <>
          <EChart option={option} height={150} ariaLabel="Savings captured by policy" />
          <div className="muted small" data-testid="backtest-summary">
            {numberFormat.format(result.decisions)} decisions on {result.products} products, {formatDateTime(result.period.from)} – {formatDateTime(result.period.to)}; following the advice paid more than buying at
            once in {result.worse_than_buy_now_pct} % of decisions and waited in {result.waited_pct} %. Rule: {result.rule_baseline.rule}.
          </div>
        </>
      )}
    </Panel>
  );
}
