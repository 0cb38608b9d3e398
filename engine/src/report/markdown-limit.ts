import { plural } from './words.js';
/** GitHub rejects issue and PR comments over 65,536 characters; keep a margin for the truncation note. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/**
 * Joins sections in order, dropping whole rows from the end of the last (collapsible) sections once the limit is
 * near, and says how many were left out. Each section is `{ head, rows, tail }` so tables stay well formed.
 */
export function fitSections(
  sections: { head: string; rows: string[]; tail?: string }[],
  limit = GITHUB_COMMENT_LIMIT,
): string {
  const budget = limit - 200;
  let out = '';
  let omitted = 0;
  for (const section of sections) {
    const tail = section.tail ?? '';
    if (out.length + section.head.length + tail.length > budget) {
      omitted += section.rows.length;
      continue;
    }
    let body = section.head;
    for (const [i, row] of section.rows.entries()) {
      if (out.length + body.length + row.length + tail.length + 1 > budget) {
        omitted += section.rows.length - i;
        break;
      }
      body += `${row}\n`;
    }
    out += body + tail;
  }
  if (omitted > 0)
    out += `\n_${plural(omitted, 'more row', 'more rows')} left out to stay under GitHub's comment size limit; see the JSON report._\n`;
  return out;
}

export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
