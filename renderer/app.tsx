import { useEffect, useState } from 'react';
import { invoke, on, onAuthRequired, transport } from './api-client';
import type { EventMap } from '../pipeline/app/contract';
import { DashboardScreen } from './dashboard/dashboard-screen';
import { PipelineScreen } from './pipeline-control/pipeline-screen';
import { ProductsScreen } from './products/products-screen';
import { AlertsScreen } from './alerts/alerts-screen';
import { ModelScreen } from './forecaster/model-screen';
import { SettingsScreen } from './settings/settings-screen';
import { currentRoute, navigate, routeHref } from './navigation';

/** The screens, in navigation order. Each is addressable as `#/<id>` (with `?params` where it takes some). */
const SCREENS = [
  { id: 'pipeline', label: 'Pipeline', render: () => <PipelineScreen /> },
  { id: 'dashboard', label: 'Dashboard', render: () => <DashboardScreen /> },
  { id: 'products', label: 'Products', render: () => <ProductsScreen /> },
  { id: 'alerts', label: 'Alerts', render: () => <AlertsScreen /> },
  { id: 'model', label: 'Model', render: () => <ModelScreen /> },
  { id: 'settings', label: 'Settings', render: () => <SettingsScreen /> },
] as const;

type ScreenId = (typeof SCREENS)[number]['id'];

function screenFromHash(): ScreenId {
  const id = currentRoute().screen;
  return (SCREENS.find((s) => s.id === id)?.id ?? 'dashboard') as ScreenId;
}

type Fired = EventMap['alerts/fired'];

/**
 * In a browser, alerts also become system notifications once the user allowed them (Alerts
 * screen). The desktop app's main process shows its own, so the renderer stays quiet there.
 */
function showBrowserNotification(fired: Fired): void {
  if (transport !== 'http' || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const [first, ...rest] = fired.alerts;
  if (!first) return;
  const notification = new Notification(fired.alerts.length === 1 ? `PriceDrop: ${first.title}` : `PriceDrop: ${fired.alerts.length} price alerts`, {
    body: `${first.message}${rest.length ? ` (+${rest.length} more)` : ''}`,
    tag: 'pricedrop-alerts',
  });
  notification.onclick = () => {
    window.focus();
    navigate('products', { source: first.source, id: first.product_id });
  };
}

export function App() {
  const [screen, setScreen] = useState<ScreenId>(screenFromHash);
  const [version, setVersion] = useState('');
  const [toast, setToast] = useState<Fired | null>(null);
  const [unseen, setUnseen] = useState(0);
  const [authRequired, setAuthRequired] = useState(false);

  useEffect(() => onAuthRequired(() => setAuthRequired(true)), []);

  useEffect(() => {
    const onHash = () => setScreen(screenFromHash());
    window.addEventListener('hashchange', onHash);
    invoke('app/info')
      .then((info) => setVersion(`${info.version} · ${info.shell === 'electron' ? 'desktop' : 'browser'}`))
      .catch(() => setVersion('backend unreachable'));
    invoke('alerts/history', { limit: 200 })
      .then((h) => setUnseen(h.unseen))
      .catch(() => {});
    const off = on('alerts/fired', (fired) => {
      setToast(fired);
      if (currentRoute().screen !== 'alerts') setUnseen((n) => n + fired.alerts.length);
      showBrowserNotification(fired);
    });
    // The desktop shell's menu and notifications open screens through the backend's event stream.
    const offNavigate = on('ui/navigate', ({ screen: target, params }) => navigate(target, params ?? {}));
    return () => {
      window.removeEventListener('hashchange', onHash);
      off();
      offNavigate();
    };
  }, []);

  useEffect(() => {
    if (screen === 'alerts') setUnseen(0);
  }, [screen]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 8000);
    return () => clearTimeout(timer);
  }, [toast]);

  if (authRequired) return <AuthRequired />;
  const current = SCREENS.find((s) => s.id === screen) ?? SCREENS[1];
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <span className="logo" aria-hidden>
            ▼
          </span>
          PriceDrop
        </div>
        <nav aria-label="Screens">
          {SCREENS.map((s) => (
            <a key={s.id} href={`#/${s.id}`} className={s.id === screen ? 'active' : undefined} aria-current={s.id === screen ? 'page' : undefined} data-testid={`nav-${s.id}`}>
              {s.label}
              {s.id === 'alerts' && unseen > 0 && (
                <span className="nav-count" data-testid="nav-alert-count">
                  {unseen}
                </span>
              )}
            </a>
          ))}
        </nav>
        <div className="muted small" title={`transport: ${transport}`}>
          {version}
        </div>
      </header>
      <main>{current.render()}</main>
      {toast && (
        <div className="toast" role="status" data-testid="alert-toast">
          <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => setToast(null)}>
            ✕
          </button>
          <strong>
            {toast.alerts.length} alert{toast.alerts.length === 1 ? '' : 's'}
          </strong>
          {toast.alerts.slice(0, 3).map((a) => (
            <a key={a.id} href={routeHref('products', { source: a.source, id: a.product_id })} className="toast-line">
              {a.message}
            </a>
          ))}
          {toast.suppressed > 0 && <div className="muted small">{toast.suppressed} more held back by today’s cap.</div>}
        </div>
      )}
    </div>
  );
}

/** What a browser sees without the launch token (a new browser, an old address, a restarted server with a new token). */
function AuthRequired() {
  return (
    <div className="auth-required" role="alert" data-testid="auth-required">
      <h1>
        <span className="logo" aria-hidden>
          ▼
        </span>{' '}
        PriceDrop needs its launch token
      </h1>
      <p>
        Only the person who started PriceDrop gets in. Open the address that <code>pricedrop start</code> printed in its terminal,{' '}
        <code>http://{window.location.host}/?token=…</code>: this browser then keeps a session until it closes.
      </p>
      <p className="muted small">Each start makes a new token unless one is set with --token or PRICEDROP_TOKEN, so an address from an earlier run no longer works.</p>
    </div>
  );
}
