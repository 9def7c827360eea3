import { useEffect, useState } from 'react';
import { invoke, transport } from './api-client';
import { DashboardScreen } from './dashboard/dashboard-screen';

/** The screens, in navigation order. Each is addressable as `#/<id>`. */
const SCREENS = [{ id: 'dashboard', label: 'Dashboard', render: () => <DashboardScreen /> }] as const;

type ScreenId = (typeof SCREENS)[number]['id'];

function screenFromHash(): ScreenId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return (SCREENS.find((s) => s.id === id)?.id ?? 'dashboard') as ScreenId;
}

export function App() {
  const [screen, setScreen] = useState<ScreenId>(screenFromHash);
  const [version, setVersion] = useState('');

  useEffect(() => {
    const onHash = () => setScreen(screenFromHash());
    window.addEventListener('hashchange', onHash);
    invoke('app/info')
      .then((info) => setVersion(`${info.version} · ${info.shell === 'electron' ? 'desktop' : 'browser'}`))
      .catch(() => setVersion('backend unreachable'));
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const current = SCREENS.find((s) => s.id === screen) ?? SCREENS[0];
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
            <a key={s.id} href={`#/${s.id}`} className={s.id === screen ? 'active' : undefined} aria-current={s.id === screen ? 'page' : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <div className="muted small" title={`transport: ${transport}`}>
          {version}
        </div>
      </header>
      <main>{current.render()}</main>
    </div>
  );
}
