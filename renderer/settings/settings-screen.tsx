import { useEffect, useState } from 'react';
import { invoke } from '../api-client';
import type { HandlerResult } from '../../pipeline/app/contract';
import { ErrorBanner, Panel, errorText, useLoad } from '../components/ui';
import { downloadText } from '../components/download';

type Settings = HandlerResult<'settings/get'>;

/** Whether the producer runs in Docker here, and why (the producer control decides: Docker when an engine answers). */
function DockerStatus() {
  const status = useLoad(() => invoke('producer/status'), []);
  const runner = status.value?.runner;
  return (
    <div className="field" data-testid="settings-docker">
      <span>Docker</span>
      <span className="muted">
        {status.error ?? (runner ? `${runner === 'docker' ? 'the producer runs as a container' : 'the producer runs as a local process'}${status.value?.runnerReason ? ` (${status.value.runnerReason})` : ''}` : 'decided at the producer’s next start: a container when a Docker engine answers (DOCKER_HOST or the default socket), else a local process')}
      </span>
    </div>
  );
}

const AWS_FIELDS: { key: keyof Settings['aws']; label: string; hint?: string }[] = [
  { key: 'profile', label: 'AWS profile', hint: 'from ~/.aws/config; credentials stay in the AWS chain' },
  { key: 'region', label: 'Region', hint: 'e.g. eu-west-1' },
  { key: 'bucket', label: 'S3 bucket' },
  { key: 'glueDatabase', label: 'Glue database', hint: 'the crawler and job names derive from it' },
  { key: 'athenaWorkgroup', label: 'Athena workgroup' },
  { key: 'athenaOutput', label: 'Athena results location', hint: 's3://… (empty: the workgroup’s)' },
];

/** Settings: AWS names (never credentials), workspace, Docker, alerts, and the Power BI / ODBC connection. */
export function SettingsScreen() {
  const loaded = useLoad(() => invoke('settings/get'), []);
  const [draft, setDraft] = useState<Settings | undefined>();
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (loaded.value) setDraft(loaded.value);
  }, [loaded.value]);
  const powerBi = useLoad(() => invoke('settings/power-bi'), []);

  if (!draft) return <ErrorBanner error={loaded.error} onRetry={loaded.reload} />;
  const setAws = (key: keyof Settings['aws'], value: string) => {
    setSaved(false);
    setDraft({ ...draft, aws: { ...draft.aws, [key]: value } });
  };

  const save = () => {
    invoke('settings/update', { mode: draft.mode, aws: draft.aws, producer: draft.producer, alerts: draft.alerts, forecaster: draft.forecaster })
      .then((next) => {
        setDraft({ ...draft, ...next });
        setError(null);
        setSaved(true);
        // The connection strings derive from the saved names (an edit alone changes nothing there).
        powerBi.reload();
      })
      .catch((e: unknown) => setError(errorText(e)));
  };

  return (
    <section className="screen settings" aria-label="Settings">
      {loaded.value?.problem && <div className="banner warn">{loaded.value.problem}</div>}
      <form
        className="settings-grid"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <Panel title="AWS" testId="settings-aws">
          <p className="muted small">Names only. PriceDrop uses the standard AWS credential chain (environment, profile, SSO, instance role); it never asks for, stores or shows keys.</p>
          {AWS_FIELDS.map((field) => (
            <label key={field.key} className="field">
              <span>{field.label}</span>
              <input value={draft.aws[field.key]} onChange={(e) => setAws(field.key, e.target.value)} data-testid={`setting-aws-${field.key}`} />
              {field.hint && <span className="muted small">{field.hint}</span>}
            </label>
          ))}
        </Panel>
        <div className="stack">
          <Panel title="Workspace">
            <div className="mono" data-testid="settings-workspace">
              {draft.workspace}
            </div>
            <p className="muted small">The lake, the cache (cache.db), quarantine, models and these settings live here. Start PriceDrop with --workspace DIR to use another.</p>
          </Panel>
          <Panel title="Producer and Docker">
            <label className="field">
              <span>Source</span>
              <input value={draft.producer.source} onChange={(e) => setDraft({ ...draft, producer: { ...draft.producer, source: e.target.value } })} />
            </label>
            <label className="field">
              <span>Interval (seconds)</span>
              <input type="number" min="0.1" step="any" value={draft.producer.intervalSeconds} onChange={(e) => setDraft({ ...draft, producer: { ...draft.producer, intervalSeconds: Number(e.target.value) } })} />
            </label>
            <DockerStatus />
          </Panel>
          <Panel title="Alerts">
            <label className="field">
              <span>At most this many alerts a day</span>
              <input type="number" min="0" max="1000" value={draft.alerts.dailyCap} onChange={(e) => setDraft({ ...draft, alerts: { ...draft.alerts, dailyCap: Number(e.target.value) } })} data-testid="setting-daily-cap" />
            </label>
            <label className="field checkbox">
              <input type="checkbox" checked={draft.alerts.desktopNotifications} onChange={(e) => setDraft({ ...draft, alerts: { ...draft.alerts, desktopNotifications: e.target.checked } })} />
              <span>Desktop notifications (desktop app)</span>
            </label>
          </Panel>
          <Panel title="Forecaster">
            <label className="field checkbox">
              <input type="checkbox" checked={draft.forecaster.autoTrain} onChange={(e) => setDraft({ ...draft, forecaster: { ...draft.forecaster, autoTrain: e.target.checked } })} data-testid="setting-auto-train" />
              <span>Train a first model once the cache holds enough history, and retrain in the background</span>
            </label>
            <label className="field">
              <span>Retrain when the data has grown by (%)</span>
              <input type="number" min="1" max="1000" value={draft.forecaster.retrainGrowthPct} onChange={(e) => setDraft({ ...draft, forecaster: { ...draft.forecaster, retrainGrowthPct: Number(e.target.value) } })} />
            </label>
            <label className="field">
              <span>or when the model is this many hours old (and the data has grown)</span>
              <input type="number" min="1" max="8760" value={draft.forecaster.retrainIntervalHours} onChange={(e) => setDraft({ ...draft, forecaster: { ...draft.forecaster, retrainIntervalHours: Number(e.target.value) } })} />
            </label>
          </Panel>
          <div className="actions">
            <button type="submit" className="button primary" data-testid="settings-save">
              Save settings
            </button>
            {saved && (
              <span className="ok-text" data-testid="settings-saved">
                Saved.
              </span>
            )}
          </div>
          <ErrorBanner error={error} />
        </div>
      </form>
      <Panel title="Power BI / ODBC" testId="settings-powerbi">
        <ErrorBanner error={powerBi.error} />
        {powerBi.value && (
          <>
            <p className="muted small">
              Power BI Desktop opens a .pbids file with the ODBC connection filled in; pick the views v_price_drop_kpis, v_drop_trend_daily, v_category_drops and v_product_latest (the same in
              the cache and in Athena). Drivers and DSN steps: docs/powerbi.md. No credentials are written.
            </p>
            <h3>Local cache (SQLite ODBC driver, works offline)</h3>
            <div className="mono wrap" data-testid="odbc-connection-string">
              {powerBi.value.cache.connectionString}
            </div>
            <button type="button" className="button" onClick={() => downloadText(powerBi.value!.cache.fileName, powerBi.value!.cache.pbids, 'application/json')} data-testid="pbids-download">
              Download {powerBi.value.cache.fileName}
            </button>
            <h3>Athena (Amazon Athena ODBC driver)</h3>
            {powerBi.value.athena ? (
              <>
                <div className="mono wrap" data-testid="athena-connection-string">
                  {powerBi.value.athena.connectionString}
                </div>
                <button type="button" className="button" onClick={() => downloadText(powerBi.value!.athena!.fileName, powerBi.value!.athena!.pbids, 'application/json')} data-testid="pbids-athena-download">
                  Download {powerBi.value.athena.fileName}
                </button>
              </>
            ) : (
              <p className="muted small">Set the S3 bucket above to get the Athena connection.</p>
            )}
          </>
        )}
      </Panel>
    </section>
  );
}
