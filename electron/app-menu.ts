import type { MenuItemConstructorOptions } from 'electron';

/** The screens the View menu opens, with their accelerators (Ctrl/Cmd+1…6, same order as the nav). */
export const MENU_SCREENS = [
  { screen: 'pipeline', label: 'Pipeline' },
  { screen: 'dashboard', label: 'Dashboard' },
  { screen: 'products', label: 'Products' },
  { screen: 'alerts', label: 'Alerts' },
  { screen: 'model', label: 'Model' },
  { screen: 'settings', label: 'Settings' },
] as const;

export interface MenuActions {
  navigate(screen: string): void;
  openWorkspaceFolder(): void;
  openExternal(url: string): void;
}

/** The application menu: File (workspace), Edit, View (screens, reload, zoom), Window, Help. */
export function appMenuTemplate(platform: NodeJS.Platform, actions: MenuActions): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open workspace folder', click: () => actions.openWorkspaceFolder() },
        { label: 'Settings…', accelerator: 'CmdOrCtrl+,', click: () => actions.navigate('settings') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...MENU_SCREENS.map((s, i) => ({ label: s.label, accelerator: `CmdOrCtrl+${i + 1}`, click: () => actions.navigate(s.screen) })),
        { type: 'separator' as const },
        { role: 'reload' as const },
        { role: 'toggleDevTools' as const },
        { type: 'separator' as const },
        { role: 'resetZoom' as const },
        { role: 'zoomIn' as const },
        { role: 'zoomOut' as const },
        { role: 'togglefullscreen' as const },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'PriceDrop documentation', click: () => actions.openExternal('https://github.com/') }] },
  ];
}
