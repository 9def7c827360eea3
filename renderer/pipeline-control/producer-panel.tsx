import { useEffect, useState } from 'react';
import { invoke, on } from '../api-client';
import type { EventMap, HandlerResult } from '../../pipeline/app/contract';
import { Counter, ErrorBanner, Panel, errorText, formatDateTime } from '../components/ui';

type Status = HandlerResult<'producer/status'>;
type Settings = HandlerResult<'settings/get'>;

const ACTIVE = new Set(['building', 'starting', 'running', 'stopping']);

/**
 * The producer: a Docker container when an engine answers, else a local process (the status says
 * which and why). Start uses the producer settings; live status, counters and its log lines.
 */
export function ProducerPanel({ settings }: { settings: Settings | undefined }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [logs, setLogs] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [backfillDays, setBackfillDays] = useState('60');

  useEffect(() => {
    invoke('producer/status')
      .then((s) => {
        setStatus(s);
        setLogs(s.logs.map((l) => l.line));
      })
      .catch((e: unknown) => setError(errorText(e)));
    const offStatus = on('producer/status', (s: EventMap['producer/status']) => setStatus((current) => ({ ...s, logs: current?.logs ?? [] })));
    const offLog = on('log/line', (line) => line.source === 'producer' && setLogs((current) => [...current.slice(-49), line.message]));
    return () => {
      offStatus();
      offLog();
    };
  }, []);

  const act = (action: () => Promise<unknown>) => {
    setBusy(true);
    action()
      .then(() => setError(null))
      .catch((e: unknown) => setError(errorText(e)))
      .finally(() => setBusy(false));
  };
  const state = status?.state ?? 'idle';
  const active = ACTIVE.has(state);
  const producer = settings?.producer;
  const awsSink = settings?.mode === 'aws' && settings.aws.bucket ? `s3://${settings.aws.bucket}` : undefined;
  const summary = status?.summary;

  return (
    <Panel title="Producer" testId="producer-panel">
      <div className="task-line">
        <span className={`status-dot ${state === 'failed' ? 'failed' : active ? 'running' : 'idle'}`} aria-hidden />
        <strong data-testid="producer-state">{state}</strong>
        {status?.runner && (
          <span className="muted small" data-testid="producer-runner">
            as a {status.runner === 'docker' ? `Docker container${status.containerId ? ` ${status.containerId.slice(0, 12)}` : ''}` : `local process${status.pid ? ` (pid ${status.pid})` : ''}`}
          </span>
        )}
        {status?.health && <span className="badge">{status.health}</span>}
      </div>
      {status?.runnerReason && <div className="muted small">{status.runnerReason}</div>}
      <div className="actions">
        {!active ? (
          <>
            <button
              type="button"
              className="button primary"
              disabled={busy}
              onClick={() =>
                act(() =>
                  invoke('producer/start', {
                    source: producer?.source ?? 'simulator',
                    intervalSeconds: producer?.intervalSeconds ?? 5,
                    products: producer?.products ?? 300,
                    backfillDays: Number(backfillDays) || 0,
                    // AWS mode: batches go to the raw stream in the bucket (the profile's name only; its keys stay in the AWS chain).
                    ...(awsSink ? { sink: awsSink, s3Region: settings!.aws.region, ...(settings!.aws.profile ? { credentials: { awsProfile: settings!.aws.profile } } : {}) } : {}),
                  }),
                )
              }
              data-testid="producer-start"
            >
              Start producer
            </button>
            <label className="small muted">
              backfill{' '}
              <input className="narrow" type="number" min="0" max="3650" value={backfillDays} onChange={(e) => setBackfillDays(e.target.value)} data-testid="producer-backfill" /> days
            </label>
          </>
        ) : (
          <button type="button" className="button" disabled={busy || state === 'stopping'} onClick={() => act(() => invoke('producer/stop'))} data-testid="producer-stop">
            {state === 'stopping' ? 'Stopping…' : 'Stop producer'}
          </button>
        )}
        <span className="muted small">
          {producer ? `${producer.source}, every ${producer.intervalSeconds} s, ${producer.products} products → ${awsSink ?? 'the local lake'}` : ''}
        </span>
      </div>
      <ErrorBanner error={error ?? status?.error} />
      <dl className="counters" data-testid="producer-counters">
        <Counter label="Source" value={status?.source ?? '–'} />
        <Counter label="Started" value={status?.startedAt ? formatDateTime(status.startedAt) : '–'} />
        <Counter label="Records" value={summary?.records ?? '–'} />
        <Counter label="Batches" value={summary?.batches ?? '–'} />
        <Counter label="Rejected" value={summary?.rejected ?? '–'} />
        <Counter label="Retries" value={summary?.retries ?? '–'} />
      </dl>
      {logs.length > 0 && (
        <ol className="log short" data-testid="producer-log">
          {logs.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
