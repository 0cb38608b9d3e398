// A chart with its data as a table beside it (a toggle shows the table instead) and a one-sentence text summary
// tied to the canvas by aria-describedby. Chart.js is imported only when a chart is on screen, so pages without
// charts never load it; animation is off when the user prefers reduced motion.
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Series {
  label: string;
  values: number[];
  colour: string;
}

export function LineChart(props: { id: string; title: string; summary: string; labels: string[]; series: Series[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [asTable, setAsTable] = useState(false);
  useEffect(() => {
    if (asTable || !canvas.current) return;
    let chart: { destroy(): void } | undefined;
    let cancelled = false;
    const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    void import('chart.js/auto').then(({ default: Chart }) => {
      if (cancelled || !canvas.current) return;
      const drawn = new Chart(canvas.current, {
        type: 'line',
        data: {
          labels: props.labels,
          datasets: props.series.map((s) => ({
            label: s.label,
            data: s.values,
            borderColor: s.colour,
            backgroundColor: s.colour,
          })),
        },
        options: { animation: reduced ? false : undefined, responsive: true, maintainAspectRatio: false },
      });
      chart = drawn;
      // what Chart.js resolved, for the browser test of prefers-reduced-motion (and for anyone inspecting the page)
      canvas.current.dataset['animation'] = drawn.options.animation === false ? 'off' : 'on';
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [asTable, props.labels, props.series]);
  const summaryId = `${props.id}-summary`;
  return (
    <figure class="chart">
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <button type="button" aria-pressed={asTable} onClick={() => setAsTable(!asTable)}>
          {asTable ? 'Show as chart' : 'Show as table'}
        </button>
      </figcaption>
      <p id={summaryId} class="chart-summary">
        {props.summary}
      </p>
      {asTable ? (
        <div class="table-wrap">
          <table data-chart-table={props.id}>
            <caption>{props.title} (data)</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                {props.series.map((s) => (
                  <th scope="col" key={s.label} class="num">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.labels.map((label, i) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  {props.series.map((s) => (
                    <td key={s.label} class="num">
                      {s.values[i] ?? ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <div class="chart-box">
          <canvas ref={canvas} role="img" aria-label={props.title} aria-describedby={summaryId} />
        </div>
      )}
    </figure>
  );
}
