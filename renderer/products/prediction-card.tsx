import { useEffect, useState } from 'react';
import { invoke, on } from '../api-client';
import { EmptyState, ErrorBanner, Panel, ProgressBar, formatDateTime, money, useLoad } from '../components/ui';
import { useTasks } from '../components/tasks';
import { policyName } from '../forecaster/policy-names';
import { routeHref } from '../navigation';

/**
 * The forecaster's advice for one product: Buy now or Wait, how sure, by how much, the risk,
 * why, and which policy gives it. Before the first model it says what the forecaster is doing
 * (training now, with its progress, or how much history it still needs), and the advice
 * appears by itself when the training ends.
 */
export function PredictionCard({ source, productId, currency }: { source: string; productId: string; currency: string }) {
  const [version, setVersion] = useState(0);
  const trainings = useTasks(['train'], 5);
  useEffect(() => on('task/updated', (run) => run.kind === 'train' && run.status !== 'running' && setVersion((v) => v + 1)), []);
  const result = useLoad(() => invoke('products/prediction', { source, productId }), [source, productId, version]);
  const value = result.value;
  // While there is no advice yet, new data may change what the forecaster waits for.
  const waiting = !!value && !value.prediction;
  useEffect(() => (waiting ? on('data/changed', () => setVersion((v) => v + 1)) : undefined), [waiting]);
  const training = trainings.running('train');
  const prediction = value?.prediction;
  const policy = prediction && 'policy' in prediction ? String(prediction.policy) : null;
  return (
    <Panel title="Advice" testId="prediction-card" className="prediction">
      <ErrorBanner error={result.error} onRetry={result.reload} />
      {value && !prediction && (
        <EmptyState title={training ? 'Training the forecaster…' : value.model_version ? 'No forecast for this product' : 'No advice yet'} testId="prediction-empty">
          {value.reason}
          {training && <ProgressBar done={training.done} total={training.total} label={training.message ?? training.label} testId="prediction-training" />}
          {!training && !value.model_version && (
            <>
              {' '}
              <a href={routeHref('model')}>The Model screen</a> can train one now.
            </>
          )}
        </EmptyState>
      )}
      {prediction && (
        <div className="prediction-body">
          <div className={`advice ${prediction.recommendation === 'Wait' ? 'wait' : 'buy'}`} data-testid="prediction-advice">
            {prediction.recommendation}
          </div>
          <dl className="prediction-facts">
            <div>
              <dt>Will drop</dt>
              <dd data-testid="prediction-will-drop">{prediction.will_drop ? 'Yes' : 'No'}</dd>
            </div>
            <div>
              <dt>Confidence</dt>
              <dd data-testid="prediction-confidence">{(prediction.confidence * 100).toFixed(0)} %</dd>
            </div>
            <div>
              <dt>Drop size, should it come</dt>
              <dd>
                {money(prediction.expected_drop_amount, currency)} ({prediction.expected_drop_pct.toFixed(1)} %)
              </dd>
            </div>
            <div>
              <dt>Risk the advice is wrong</dt>
              <dd>
                <span className={`badge risk-${prediction.risk_level.toLowerCase()}`} data-testid="prediction-risk">
                  {prediction.risk_level}
                </span>
              </dd>
            </div>
          </dl>
          <ul className="reasons" data-testid="prediction-reasons">
            {prediction.reasons.map((reason) => (
              <li key={reason.feature}>{reason.text}</li>
            ))}
          </ul>
          <div className="muted small" data-testid="prediction-policy">
            {policy ? `Advice from ${policyName(policy)}` : 'Advice from the model'} · model {value.model_version} · features as of {formatDateTime(prediction.as_of)}
            {training && ' · a newer model is training'}
          </div>
        </div>
      )}
    </Panel>
  );
}
