// The shell: a skip link, a banner with the navigation and search, the main region where the page for the URL
// renders (each page is its own lazily loaded chunk), and the session (who is signed in, the CSRF token).
import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { type Location, matchRoute, navigate, useLocation } from './router.js';

export interface Me {
  user?: { login: string; displayName?: string; isAdmin?: boolean };
  csrfToken?: string;
}

export interface PageProps {
  params: Record<string, string>;
  location: Location;
  me: Me;
}

type PageModule = { default: ComponentType<PageProps> };

const PAGES: Record<string, () => Promise<PageModule>> = {
  overview: () => import('./pages/overview.js'),
  login: () => import('./pages/login.js'),
  images: () => import('./pages/images.js'),
  image: () => import('./pages/image.js'),
  vulnerability: () => import('./pages/vulnerability.js'),
  repositories: () => import('./pages/repositories.js'),
  repository: () => import('./pages/repository.js'),
  trends: () => import('./pages/trends.js'),
  summary: () => import('./pages/summary.js'),
  exceptions: () => import('./pages/exceptions.js'),
  search: () => import('./pages/search.js'),
  settings: () => import('./pages/settings.js'),
  'not-found': () => import('./pages/not-found.js'),
};

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/images', 'Images'],
  ['/repositories', 'Repositories'],
  ['/trends', 'Trends'],
  ['/summary', 'Weekly summary'],
  ['/exceptions', 'Exceptions'],
  ['/settings', 'Settings'],
];

export function App() {
  const location = useLocation();
  const [me, setMe] = useState<Me | undefined>();
  const [signedOut, setSignedOut] = useState(false);
  // Why the login page is showing, when it is not the first visit: the session expired, or the user signed out.
  const [notice, setNotice] = useState<string>();
  // Read by the 401 handler (registered once), so it is a ref rather than state.
  const signedIn = useRef(false);
  const [page, setPage] = useState<{ name: string; component: ComponentType<PageProps> }>();
  const route = matchRoute(location.path);
  const pageName = signedOut || route.page === 'login' ? 'login' : route.page;

  useEffect(() => {
    setUnauthorizedHandler(() => {
      // A 401 after a successful sign-in means the server ended the session (expiry, idle timeout, revocation).
      if (signedIn.current) setNotice('Your session has expired. Sign in again to continue.');
      signedIn.current = false;
      setCsrfToken(undefined);
      setSignedOut(true);
    });
    api<Me>('/auth/me')
      .then((answer) => {
        signedIn.current = true;
        setCsrfToken(answer.csrfToken);
        setMe(answer);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) setSignedOut(true);
      });
  }, []);

  useEffect(() => {
    let cancelled = false;
    const load = PAGES[pageName] ?? PAGES['not-found'];
    void load?.().then((module) => {
      if (!cancelled) setPage({ name: pageName, component: module.default });
    });
    return () => {
      cancelled = true;
    };
  }, [pageName]);

  useEffect(() => {
    // A new page moves focus to the main region, so keyboard and screen-reader users start at its content.
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [page?.name, location.path]);

  const onSignedIn = (answer: Me) => {
    signedIn.current = true;
    setNotice(undefined);
    setCsrfToken(answer.csrfToken);
    setMe(answer);
    setSignedOut(false);
    if (location.path === '/login') navigate('/', { replace: true });
  };

  const logout = async () => {
    signedIn.current = false;
    await api('/auth/logout', { method: 'POST' }).catch(() => {});
    setCsrfToken(undefined);
    setMe(undefined);
    setNotice('You have signed out.');
    setSignedOut(true);
  };

  const Page = page?.name === pageName ? page.component : undefined;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="banner">
        <a class="brand" href="/">
          Lading
        </a>
        {!signedOut && (
          <nav aria-label="Main">
            <ul>
              {NAV.map(([href, label]) => (
                <li key={href}>
                  <a href={href} aria-current={isCurrent(location.path, href) ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {!signedOut && (
          <search class="search-form">
            <form
              onSubmit={(event) => {
                event.preventDefault();
                const q = new FormData(event.currentTarget).get('q');
                if (typeof q === 'string' && q.trim()) navigate(`/search?q=${encodeURIComponent(q.trim())}`);
              }}
            >
              <label for="global-search" class="visually-hidden">
                Search CVEs, images, repositories, packages
              </label>
              <input id="global-search" name="q" type="search" placeholder="CVE, image, package…" />
              <button type="submit">Search</button>
            </form>
          </search>
        )}
        {me?.user && !signedOut && (
          <div class="session">
            <span>{me.user.displayName || me.user.login}</span>
            <button type="button" onClick={logout}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {Page ? (
          <Page
            params={route.params}
            location={location}
            me={me ?? {}}
            {...(pageName === 'login' ? { onSignedIn, notice } : {})}
          />
        ) : (
          <p aria-live="polite">Loading…</p>
        )}
      </main>
      <footer class="footer">
        <p>Lading — every image's SBOM, findings, signatures and provenance, by digest.</p>
      </footer>
    </>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}
