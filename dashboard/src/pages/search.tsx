// One search box for everything: vulnerabilities by any alias, images by name, tag or digest, repositories, and
// packages (`openssl 3.0.11`).
import { api } from '../api.js';
import type { PageProps } from '../app.js';
import { Show, useLoad } from '../components/load.js';
import { SeverityBadge } from '../components/severity.js';
import { shortDigest } from '../format.js';

interface SearchResult {
  vulnerabilities: { id: string; severity: string; summary: string | null }[];
  images: { digest: string; repository: string | null; tags: string[] }[];
  repositories: { id: string; name: string }[];
  packages: { purl: string; name: string; version: string; type: string }[];
}

export default function Search(props: PageProps) {
  const q = props.location.query.get('q') ?? '';
  const [result] = useLoad((signal) => api<SearchResult>('/search', { query: { q }, signal }), [q]);
  return (
    <section>
      <h1>Search results for “{q}”</h1>
      <Show loaded={result} what="results">
        {(r) => (
          <div class="results">
            <section aria-labelledby="r-vulns">
              <h2 id="r-vulns">Vulnerabilities ({r.vulnerabilities.length})</h2>
              <ul>
                {r.vulnerabilities.map((v) => (
                  <li key={v.id}>
                    <a href={`/vulns/${encodeURIComponent(v.id)}`}>{v.id}</a> <SeverityBadge severity={v.severity} />{' '}
                    {v.summary ?? ''}
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="r-images">
              <h2 id="r-images">Images ({r.images.length})</h2>
              <ul>
                {r.images.map((i) => (
                  <li key={i.digest}>
                    <a href={`/images/${i.digest}`}>
                      {i.repository ?? 'image'} {i.tags.join(', ')} <code>{shortDigest(i.digest)}</code>
                    </a>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="r-repos">
              <h2 id="r-repos">Repositories ({r.repositories.length})</h2>
              <ul>
                {r.repositories.map((x) => (
                  <li key={x.id}>
                    <a href={`/repositories/${encodeURIComponent(x.id)}`}>{x.name}</a>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="r-packages">
              <h2 id="r-packages">Packages ({r.packages.length})</h2>
              <ul>
                {r.packages.map((p) => (
                  <li key={p.purl}>
                    <code>{p.purl}</code>
                  </li>
                ))}
              </ul>
            </section>
          </div>
        )}
      </Show>
    </section>
  );
}
