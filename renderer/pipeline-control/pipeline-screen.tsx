import { useEffect, useState } from 'react';
import { invoke, on } from '../api-client';
import type { EventMap } from '../../pipeline/app/contract';
import { Counter, ErrorBanner, Panel, errorText, formatDateTime, useLoad } from '../components/ui';
import { RunHistory, TaskStatus, useTasks } from '../components/tasks';
import { routeHref } from '../navigation';
import { ProducerPanel } from './producer-panel';
import { CloudPanel } from './cloud-panel';

type LogLine = EventMap['log/line'];

/** The pipeline: mode, the producer, the ETL (local) or Glue + Athena (AWS), the activity log and the run history. */
export function PipelineScreen() {
  const settings = useLoad(() => invoke('settings/get'), []);
  const [dataVersion, setDataVersion] = useState(0);
  useEffect(() => on('data/changed', () => setDataVersion((v) => v + 1)), []);
  const info = useLoad(() => invoke('app/info'), [dataVersion]);
  const tasks = useTasks([], 30);
  const [modeError, setModeError] = useState<string | null>(null);
  const mode = settings.value?.mode ?? 'embedded';

  const setMode = (next: 'embedded' | 'aws') => {
    invoke('settings/update', { mode: next })
      .then(() => {
        setModeError(null);
        settings.reload();
      })
      .catch((e: unknown) => setModeError(errorText(e)));
  };

  return (
    <section className="screen pipeline" aria-label="Pipeline">
      <div className="mode-bar panel">
        <div className="segmented" role="radiogroup" aria-label="Mode">
          <button type="button" role="radio" aria-checked={mode === 'embedded'} className={mode === 'embedded' ? 'active' : undefined} onClick={() => setMode('embedded')} data-testid="mode-embedded">
            Embedded (this computer)
          </button>
          <button type="button" role="radio" aria-checked={mode === 'aws'} className={mode === 'aws' ? 'active' : undefined} onClick={() => setMode('aws')} data-testid="mode-aws">
            AWS (S3, Glue, Athena)
          </button>
        </div>
        <div className="muted small">
          {mode === 'embedded'
            ? `Producer → ${info.value?.workspace ?? 'workspace'}/lake → local ETL → cache.db`
            : `Producer → s3://${settings.value?.aws.bucket || '(bucket not set)'}/price-stream → Glue → Athena (${settings.value?.aws.region ?? ''}) → cache.db`}
          {' · '}
          <a href={routeHref('settings')}>Settings</a>
        </div>
        <div className="muted small" data-testid="pipeline-data-as-of">
          Data as of {formatDateTime(info.value?.data_as_of)}
        </div>
      </div>
      <ErrorBanner error={modeError ?? settings.error} />
      <div className="pipeline-grid">
        <ProducerPanel settings={settings.value} />
        {mode === 'embedded' ? <EtlPanel tasks={tasks} /> : <CloudPanel tasks={tasks} settings={settings.value} />}
      </div>
      <div className="pipeline-grid">
        <ActivityLog />
        <Panel title="Run history" testId="run-history-panel">
          <ErrorBanner error={tasks.error} onRetry={tasks.refresh} />
          <RunHistory runs={tasks.runs} />
        </Panel>
      </div>
    </section>
  );
}

function EtlPanel({ tasks }: { tasks: ReturnType<typeof useTasks> }) {
  const running = tasks.running('etl');
  const latest = tasks.latest('etl');
  const summary = latest?.status === 'succeeded' ? (latest.result as { files: number; read: number; cleaned: number; duplicates: number; quarantined: number } | null) : null;
  return (
    <Panel title="Local ETL" testId="etl-panel">
      <p className="muted">
        Cleans new raw files from the lake (prices normalised, duplicates and bad rows set aside, drops labelled) into the cache. It also runs by itself every few seconds
        while PriceDrop is open; run it here to see it through or after an import.
      </p>
      <div className="actions">
        <button type="button" className="button primary" disabled={!!running} onClick={() => void tasks.start(() => invoke('pipeline/etl-run'))} data-testid="etl-run">
          Run ETL now
        </button>
      </div>
      <TaskStatus run={latest} testId="etl-status" />
      {summary && summary.files > 0 && (
        <dl className="counters" data-testid="etl-summary">
          <Counter label="Files" value={summary.files} />
          <Counter label="Rows read" value={summary.read} />
          <Counter label="Cleaned" value={summary.cleaned} />
          <Counter label="Duplicates" value={summary.duplicates} />
          <Counter label="Quarantined" value={summary.quarantined} />
        </dl>
      )}
    </Panel>
  );
}

/** The last lines of the backend's activity (producer, ETL, sync, alerts), newest last. */
function ActivityLog() {
  const [lines, setLines] = useState<LogLine[]>([]);
  useEffect(() => on('log/line', (line) => setLines((current) => [...current.slice(-199), line])), []);
  return (
    <Panel title="Activity" testId="activity-log">
      {lines.length === 0 ? (
        <p className="muted">Producer, ETL and sync messages appear here as they happen.</p>
      ) : (
        <ol className="log">
          {lines.map((line, i) => (
            <li key={i} className={`log-${line.level}`}>
              <span className="muted">{new Date(line.at).toLocaleTimeString()}</span> <span className="log-source">{line.source}</span> {line.message}
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
