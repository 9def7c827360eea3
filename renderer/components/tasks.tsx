import { useCallback, useEffect, useState } from 'react';
import { invoke, on } from '../api-client';
import type { HandlerResult } from '../../pipeline/app/contract';
import { ErrorBanner, ProgressBar, errorText, formatDateTime, formatDuration } from './ui';

export type TaskRun = HandlerResult<'tasks/get'>;

/**
 * The runs of some kinds (all when `kinds` is empty), newest first, kept live from `task/updated`
 * events. `start` wraps a handler that starts a task and returns its run.
 */
export function useTasks(kinds: readonly string[] = [], limit = 20) {
  const [runs, setRuns] = useState<TaskRun[]>([]);
  const [error, setError] = useState<string | null>(null);
  const key = kinds.join(',');

  const refresh = useCallback(() => {
    invoke('tasks/list', { kinds: key ? key.split(',') : [], limit })
      .then((list) => {
        setRuns(list);
        setError(null);
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, [key, limit]);

  useEffect(() => {
    refresh();
    return on('task/updated', (run) => {
      if (key && !key.split(',').includes(run.kind)) return;
      setRuns((current) => {
        const index = current.findIndex((r) => r.id === run.id);
        if (index === -1) return [run, ...current].slice(0, limit);
        const next = [...current];
        next[index] = run;
        return next;
      });
    });
  }, [refresh, key, limit]);

  const start = useCallback(async (starter: () => Promise<TaskRun>) => {
    try {
      const run = await starter();
      setError(null);
      setRuns((current) => (current.some((r) => r.id === run.id) ? current : [run, ...current]));
      return run;
    } catch (e) {
      setError(errorText(e));
      return undefined;
    }
  }, []);

  const running = (kind: string) => runs.find((r) => r.kind === kind && r.status === 'running');
  const latest = (kind: string) => runs.find((r) => r.kind === kind);
  return { runs, error, refresh, start, running, latest };
}

/** One task's state: progress and Cancel while it runs; outcome, duration and message after. */
export function TaskStatus({ run, testId }: { run: TaskRun | undefined; testId?: string }) {
  const [cancelError, setCancelError] = useState<string | null>(null);
  if (!run) return null;
  const running = run.status === 'running';
  return (
    <div className={`task-status ${run.status}`} data-testid={testId} data-status={run.status}>
      <div className="task-line">
        <span className={`status-dot ${run.status}`} aria-hidden />
        <span className="task-label">{run.label}</span>
        <span className="muted small">
          {run.status} · {formatDuration(run.started_at, run.finished_at)}
        </span>
        {running && (
          <button
            type="button"
            className="button small"
            onClick={() => {
              invoke('tasks/cancel', { id: run.id }).catch((e: unknown) => setCancelError(errorText(e)));
            }}
            data-testid={testId ? `${testId}-cancel` : undefined}
          >
            Cancel
          </button>
        )}
      </div>
      {running && <ProgressBar done={run.done} total={run.total} label={run.label} />}
      {run.message && <div className={`task-message ${run.status === 'failed' ? 'error-text' : 'muted'}`}>{run.message}</div>}
      <ErrorBanner error={cancelError} />
    </div>
  );
}

/** The run history: when, what, how long, how it ended, and the service's message. */
export function RunHistory({ runs, testId = 'run-history', compact = false }: { runs: readonly TaskRun[]; testId?: string; compact?: boolean }) {
  if (runs.length === 0) return <p className="muted">No runs yet. Runs of the actions above appear here, with their timestamps.</p>;
  return (
    <table className={compact ? 'table compact' : 'table runs'} data-testid={testId}>
      <thead>
        <tr>
          <th>Started</th>
          <th>Action</th>
          <th>Status</th>
          {!compact && <th>Duration</th>}
          {!compact && <th>Message</th>}
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id} data-status={run.status}>
            <td className="nowrap">{formatDateTime(run.started_at)}</td>
            <td title={compact ? `${formatDuration(run.started_at, run.finished_at)}${run.message ? ` · ${run.message}` : ''}` : undefined}>{run.label}</td>
            <td>
              <span className={`badge ${run.status}`}>{run.status}</span>
            </td>
            {!compact && <td className="nowrap">{formatDuration(run.started_at, run.finished_at)}</td>}
            {!compact && <td className={run.status === 'failed' ? 'error-text' : 'muted'}>{run.message ?? ''}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
