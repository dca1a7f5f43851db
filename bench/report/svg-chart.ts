// A small line chart written as SVG text, so that the benchmark page needs no plotting dependency.
// Linear axes from zero, since the question the charts answer is "does it stay flat as N grows".

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
}

export interface LineChart {
  title: string;
  /** A smaller line under the title, e.g. the machine and its load, so the chart stays honest on its own. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** Optional horizontal reference lines, e.g. a target. */
  references?: readonly { label: string; y: number }[];
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const MARGIN = { top: 50, right: 160, bottom: 50, left: 70 };

/** Escapes text for an SVG text node or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Round tick values (1, 2 or 5 times a power of ten) from 0 to at least `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Tick labels short enough for an axis: 25000 -> 25k, 1500000 -> 1.5M. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function fmt(n: number): string {
  return n.toFixed(1);
}

/** Renders `chart` as a standalone SVG document. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 400;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const points = chart.series
    .flatMap((s) => s.points)
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xTicks = niceTicks(Math.max(0, ...points.map((p) => p.x)));
  const yTicks = niceTicks(
    Math.max(0, ...points.map((p) => p.y), ...(chart.references ?? []).map((r) => r.y)),
  );
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const sx = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text class="title" x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`,
  );
  if (chart.subtitle) {
    out.push(
      `<text class="subtitle" x="${width / 2}" y="38" text-anchor="middle" font-size="11" fill="#555">${escapeXml(chart.subtitle)}</text>`,
    );
  }
  const x0 = MARGIN.left;
  const y0 = MARGIN.top + plotH;
  for (const t of yTicks) {
    out.push(
      `<line class="grid" x1="${x0}" y1="${fmt(sy(t))}" x2="${x0 + plotW}" y2="${fmt(sy(t))}" stroke="#e5e5e5"/>`,
    );
    out.push(
      `<text class="y-tick" x="${x0 - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(
      `<text class="x-tick" x="${fmt(sx(t))}" y="${y0 + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`,
    );
  }
  out.push(`<line class="x-axis" x1="${x0}" y1="${y0}" x2="${x0 + plotW}" y2="${y0}" stroke="#000"/>`);
  out.push(`<line class="y-axis" x1="${x0}" y1="${MARGIN.top}" x2="${x0}" y2="${y0}" stroke="#000"/>`);
  out.push(
    `<text class="x-label" x="${x0 + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
  );
  out.push(
    `<text class="y-label" x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(chart.yLabel)}</text>`,
  );
  for (const ref of chart.references ?? []) {
    out.push(
      `<line class="reference" x1="${x0}" y1="${fmt(sy(ref.y))}" x2="${x0 + plotW}" y2="${fmt(sy(ref.y))}" stroke="#888" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text class="reference-label" x="${x0 + plotW - 4}" y="${fmt(sy(ref.y) - 4)}" text-anchor="end" fill="#555">${escapeXml(ref.label)}</text>`,
    );
  }
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = series.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .toSorted((a, b) => a.x - b.x);
    if (pts.length > 1) {
      out.push(
        `<polyline class="series" fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${fmt(sx(p.x))},${fmt(sy(p.y))}`).join(' ')}"/>`,
      );
    }
    for (const p of pts) {
      out.push(
        `<circle class="point" cx="${fmt(sx(p.x))}" cy="${fmt(sy(p.y))}" r="3.5" fill="${colour}"><title>${escapeXml(`${series.name}: ${p.x}, ${p.y}`)}</title></circle>`,
      );
    }
    const ly = MARGIN.top + 10 + i * 20;
    out.push(
      `<line x1="${x0 + plotW + 15}" y1="${ly}" x2="${x0 + plotW + 35}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
    );
    out.push(`<text class="legend" x="${x0 + plotW + 40}" y="${ly + 4}">${escapeXml(series.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
