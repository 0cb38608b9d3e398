// Severity as text and colour together (WCAG: colour is never the only carrier).
import { type Counts, SEVERITIES, type Severity } from '../format.js';

export function SeverityBadge(props: { severity: string }) {
  const s = props.severity.toLowerCase();
  return <span class={`sev sev-${s}`}>{s.toUpperCase()}</span>;
}

/** `C 2 · H 5 · M 0 …` with each level named for screen readers. */
export function SeverityCounts(props: { counts: Counts }) {
  return (
    <span class="counts">
      {SEVERITIES.map((s: Severity) => (
        <span key={s} class={`count sev-${s}${props.counts[s] > 0 ? '' : ' zero'}`}>
          <abbr title={s}>{s[0]?.toUpperCase()}</abbr> {props.counts[s]}
          <span class="visually-hidden"> {s}</span>
        </span>
      ))}
    </span>
  );
}
