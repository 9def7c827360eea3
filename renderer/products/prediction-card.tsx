import { useEffect, useState } from 'react';
import { invoke, on } from '../api-client';
import { EmptyState, ErrorBanner, Panel, formatDateTime, money, useLoad } from '../components/ui';
import { routeHref } from '../navigation';

/** The forecaster's advice for one product: will it drop, how sure, by how much, Buy now or Wait, and why. */
export function PredictionCard({ source, productId, currency }: { source: string; productId: string; currency: string }) {
  const [version, setVersion] = useState(0);
  useEffect(() => on('task/updated', (run) => run.kind === 'train' && run.status === 'succeeded' && setVersion((v) => v + 1)), []);
  const result = useLoad(() => invoke('products/prediction', { source, productId }), [source, productId, version]);
  const value = result.value;
  return (
    <Panel title="Prediction" testId="prediction-card" className="prediction">
      <ErrorBanner error={result.error} onRetry={result.reload} />
      {value && !value.prediction && (
        <EmptyState title="No forecast yet" testId="prediction-empty">
          {value.reason} <a href={routeHref('model')}>Open the Model screen</a>.
        </EmptyState>
      )}
      {value?.prediction && (
        <div className="prediction-body">
          <div className={`advice ${value.prediction.recommendation === 'Wait' ? 'wait' : 'buy'}`} data-testid="prediction-advice">
            {value.prediction.recommendation}
          </div>
          <dl className="prediction-facts">
            <div>
              <dt>Will drop</dt>
              <dd data-testid="prediction-will-drop">{value.prediction.will_drop ? 'Yes' : 'No'}</dd>
            </div>
            <div>
              <dt>Confidence</dt>
              <dd data-testid="prediction-confidence">{(value.prediction.confidence * 100).toFixed(0)} %</dd>
            </div>
            <div>
              <dt>Drop size, should it come</dt>
              <dd>
                {money(value.prediction.expected_drop_amount, currency)} ({value.prediction.expected_drop_pct.toFixed(1)} %)
              </dd>
            </div>
            <div>
              <dt>Risk of overpaying</dt>
              <dd>
                <span className={`badge risk-${value.prediction.risk_level.toLowerCase()}`} data-testid="prediction-risk">
                  {value.prediction.risk_level}
                </span>
              </dd>
            </div>
          </dl>
          <ul className="reasons" data-testid="prediction-reasons">
            {value.prediction.reasons.map((reason) => (
              <li key={reason.feature}>{reason.text}</li>
            ))}
          </ul>
          <div className="muted small">
            Model {value.model_version} · features as of {formatDateTime(value.prediction.as_of)}
          </div>
        </div>
      )}
    </Panel>
  );
}
