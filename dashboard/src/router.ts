// The URL is the dashboard's state: the path picks the page, the query string holds filters and tabs, so every view
// can be bookmarked, shared and reloaded. A click on a same-origin link is turned into history navigation.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
  if (!options.replace) window.scrollTo(0, 0);
}

/** The same URL with some query parameters changed (undefined or '' removes one). */
export function withQuery(location: Location, changes: Record<string, string | undefined>): string {
  const query = new URLSearchParams(location.query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') query.delete(key);
    else query.set(key, value);
  }
  const text = query.toString();
  return text ? `${location.path}?${text}` : location.path;
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}

/** Intercepts plain left clicks on same-origin links (not new-tab, download or external ones). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    const anchor = (event.target as Element | null)?.closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    navigate(`${url.pathname}${url.search}${url.hash}`);
  });
}

export interface RouteMatch {
  page: string;
  params: Record<string, string>;
}

/** Path patterns, first match wins. `:name` matches one segment; a trailing `*name` the rest. */
export const ROUTES: readonly [string, string][] = [
  ['/', 'overview'],
  ['/login', 'login'],
  ['/images', 'images'],
  ['/images/:digest', 'image'],
  ['/vulns/:id', 'vulnerability'],
  ['/repositories', 'repositories'],
  ['/repositories/:id', 'repository'],
  ['/trends', 'trends'],
  ['/summary', 'summary'],
  ['/exceptions', 'exceptions'],
  ['/search', 'search'],
  ['/settings', 'settings'],
];

export function matchRoute(path: string): RouteMatch {
  const segments = path.split('/').filter(Boolean);
  for (const [pattern, page] of ROUTES) {
    const parts = pattern.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (const [i, part] of parts.entries()) {
      const segment = segments[i] ?? '';
      if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segment);
      else if (part !== segment) ok = false;
    }
    if (ok) return { page, params };
  }
  return { page: 'not-found', params: {} };
}
