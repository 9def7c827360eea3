/**
 * Hash routes: `#/<screen>?key=value&...`. Screens read their parameters from the hash, so a
 * drill-down, an alert or a bookmark can open a screen in a given state.
 */
export function currentRoute(): { screen: string; params: URLSearchParams } {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [screen = '', query = ''] = hash.split('?', 2);
  return { screen, params: new URLSearchParams(query) };
}

export function routeHref(screen: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, value);
  const text = query.toString();
  return `#/${screen}${text ? `?${text}` : ''}`;
}

export function navigate(screen: string, params: Record<string, string | undefined> = {}): void {
  window.location.hash = routeHref(screen, params);
}
