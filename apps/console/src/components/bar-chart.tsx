/**
 * A small bar chart in SVG (records per run, a profile's size over time), with the figures also in
 * a table for screen readers: the chart is a picture of the table, not the only copy.
 */
export interface Bar {
  label: string;
  value: number;
  /** A second value drawn on top in the warning colour (failures). */
  alert?: number;
}

export function BarChart({ title, bars, unit }: { title: string; bars: Bar[]; unit: string }) {
  const width = 600;
  const height = 140;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.alert ?? 0)));
  // Bars stay narrow when there are few of them: one run is a bar, not a filled box.
  const step = Math.min(48, bars.length > 0 ? width / bars.length : width);
  const barWidth = Math.max(1, step * 0.8);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${bars.length} bars, largest ${max} ${unit}`} preserveAspectRatio="none">
        {bars.map((bar, i) => {
          const h = (bar.value / max) * (height - 4);
          const a = ((bar.alert ?? 0) / max) * (height - 4);
          return (
            <g key={i}>
              <rect x={i * step} y={height - h} width={barWidth} height={h} className="bar">
                <title>{`${bar.label}: ${bar.value} ${unit}`}</title>
              </rect>
              {a > 0 ? (
                <rect x={i * step} y={height - a} width={barWidth} height={a} className="bar-alert">
                  <title>{`${bar.label}: ${bar.alert} failed`}</title>
                </rect>
              ) : null}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>Figures</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">{unit}</th>
              {bars.some((b) => b.alert !== undefined) ? <th scope="col">failed</th> : null}
            </tr>
          </thead>
          <tbody>
            {bars.map((bar, i) => (
              <tr key={i}>
                <td>{bar.label}</td>
                <td>{bar.value}</td>
                {bars.some((b) => b.alert !== undefined) ? <td>{bar.alert ?? 0}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
