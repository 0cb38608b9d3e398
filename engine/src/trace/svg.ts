/**
 * Horizontal bar charts as standalone SVG, for docs/study.md: no charting library, no script, text in the file
 * (titles and a table-like label per bar) so the chart reads without colour and diffs cleanly when re-generated.
 */

export interface Bar {
  label: string;
  /** `null` draws no bar and says "not reached" (a censored median). */
  value: number | null;
  /** A second, lighter bar behind the first (e.g. the p90), optional. */
  back?: number | null;
  note?: string;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function barChartSvg(title: string, unit: string, bars: readonly Bar[], legend: [string, string?]): string {
  const labelWidth = 230;
  const plotWidth = 440;
  const rowHeight = 22;
  const top = 48;
  const height = top + bars.length * rowHeight + 30;
  let max = 0;
  for (const bar of bars) max = Math.max(max, bar.value ?? 0, bar.back ?? 0);
  const scale = max > 0 ? plotWidth / max : 0;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const back =
      bar.back !== undefined && bar.back !== null && bar.back > 0
        ? `<rect x="${labelWidth}" y="${y + 3}" width="${(bar.back * scale).toFixed(1)}" height="${rowHeight - 6}" fill="#c6d4e6"/>`
        : '';
    const value = bar.value ?? 0;
    const front =
      bar.value !== null && value > 0
        ? `<rect x="${labelWidth}" y="${y + 6}" width="${(value * scale).toFixed(1)}" height="${rowHeight - 12}" fill="#1f4e89"/>`
        : '';
    const text = bar.value === null ? 'not reached' : `${bar.value}`;
    const tail = Math.max(value, bar.back ?? 0) * scale;
    return [
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      back,
      front,
      `<text x="${(labelWidth + tail + 4).toFixed(1)}" y="${y + 15}">${escapeXml(text)}${bar.note ? ` ${escapeXml(bar.note)}` : ''}</text>`,
    ].join('');
  });
  const legendText = `${escapeXml(legend[0])} (dark)${legend[1] ? `; ${escapeXml(legend[1])} (light)` : ''}, ${escapeXml(unit)}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 120}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#444444">${legendText}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
