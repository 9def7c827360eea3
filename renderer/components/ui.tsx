import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

/** A titled card; `actions` sit at the right of the title (export buttons, drill links). */
export function Panel({ title, testId, actions, children, className }: { title: ReactNode; testId?: string; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <article className={`panel ${className ?? ''}`} data-testid={testId}>
      <header className="panel-header">
        <h2>{title}</h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </header>
      {children}
    </article>
  );
}

/** A progress bar; indeterminate (striped) when `total` is unknown. */
export function ProgressBar({ done, total, label, testId }: { done: number; total?: number | null; label?: string; testId?: string }) {
  const known = total !== undefined && total !== null && total > 0;
  const pct = known ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="progress" data-testid={testId} role="progressbar" aria-valuemin={0} aria-valuemax={100} {...(known ? { 'aria-valuenow': pct } : {})} aria-label={label}>
      <div className={known ? 'progress-fill' : 'progress-fill indeterminate'} style={known ? { width: `${pct}%` } : undefined} />
    </div>
  );
}

/** The service's message, shown as it came, with an optional retry. */
export function ErrorBanner({ error, onRetry, prefix }: { error: string | null | undefined; onRetry?: () => void; prefix?: string }) {
  if (!error) return null;
  return (
    <div className="banner error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {error}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** What to do when there is nothing to show yet. */
export function EmptyState({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty-state" data-testid={testId}>
      <strong>{title}</strong>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads with `fetcher` on mount and whenever `deps` change; `reload()` refetches. Keeps the last
 * value while reloading, so panels do not flash empty.
 */
export function useLoad<T>(fetcher: () => Promise<T>, deps: readonly unknown[]): { value: T | undefined; error: string | null; loading: boolean; reload: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  useEffect(() => {
    let live = true;
    setLoading(true);
    fetcherRef
      .current()
      .then((v) => {
        if (!live) return;
        setValue(v);
        setError(null);
      })
      .catch((e: unknown) => live && setError(errorText(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]); // deps are the caller's
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { value, error, loading, reload };
}

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function formatDuration(fromIso: string, toIso: string | null): string {
  const ms = (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso);
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export const numberFormat = new Intl.NumberFormat('en-US');

export function money(value: number | null | undefined, currency = ''): string {
  if (value === null || value === undefined) return '–';
  return `${value.toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

export function Counter({ label, value }: { label: string; value: number | string | null | undefined }) {
  return (
    <div className="counter">
      <dt>{label}</dt>
      <dd>{typeof value === 'number' ? numberFormat.format(value) : (value ?? '–')}</dd>
    </div>
  );
}
