import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, niceTicks, renderLineChart } from './svg-chart.js';

function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
}

function circles(svg: string): { cx: number; cy: number }[] {
  return [...svg.matchAll(/<circle class="point" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
    cx: Number(m[1]),
    cy: Number(m[2]),
  }));
}

describe('niceTicks and formatTick', () => {
  it('covers the maximum with round steps from zero', () => {
    expect(niceTicks(9_300)).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
    expect(niceTicks(500_000)).toEqual([0, 100000, 200000, 300000, 400000, 500000]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });

  it('shortens thousands and millions', () => {
    expect([0, 250, 25_000, 1_500_000, 12.5].map(formatTick)).toEqual(['0', '250', '25k', '1.5M', '12.5']);
  });
});

describe('renderLineChart', () => {
  const chart = {
    title: 'Throughput',
    subtitle: 'CPU & load 3–4',
    xLabel: 'responses',
    yLabel: 'responses/s',
    width: 720,
    height: 400,
    series: [
      {
        name: 'PostgreSQL',
        points: [
          { x: 50_000, y: 6_000 },
          { x: 10_000, y: 4_000 },
        ],
      },
      { name: 'SQLite', points: [{ x: 10_000, y: 8_000 }] },
    ],
    references: [{ label: 'target', y: 12_000 }],
  };
  const svg = renderLineChart(chart);

  it('is one SVG document with the title and both axis labels', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="400"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(texts(svg, 'title')).toEqual(['Throughput']);
    expect(texts(svg, 'subtitle')).toEqual(['CPU &amp; load 3–4']);
    expect(texts(svg, 'x-label')).toEqual(['responses']);
    expect(texts(svg, 'y-label')).toEqual(['responses/s']);
  });

  it('draws axes from zero that cover the points and the reference line', () => {
    expect(texts(svg, 'x-tick')).toEqual(['0', '10k', '20k', '30k', '40k', '50k']);
    // The target (12,000) is above every point, so the y axis reaches it.
    expect(texts(svg, 'y-tick')).toEqual(['0', '5k', '10k', '15k']);
    expect(texts(svg, 'reference-label')).toEqual(['target']);
  });

  it('places each point on the scale, in x order, with a legend entry per series', () => {
    // Plot area: x 70..560 for 0..50k, y 350..50 for 0..15k.
    expect(circles(svg)).toEqual([
      { cx: 168, cy: 270 },
      { cx: 560, cy: 230 },
      { cx: 168, cy: 190 },
    ]);
    expect(svg).toContain('points="168.0,270.0 560.0,230.0"');
    // A series of one point gets its marker but no line.
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(texts(svg, 'legend')).toEqual(['PostgreSQL', 'SQLite']);
  });

  it('escapes labels, so a name cannot break or inject markup', () => {
    const hostile = renderLineChart({
      title: 'A & B <script>alert(1)</script>',
      xLabel: 'x "quoted"',
      yLabel: "y 'single'",
      series: [{ name: '</text><g onload="x">', points: [{ x: 1, y: 1 }] }],
    });
    expect(hostile).not.toContain('<script>');
    expect(hostile).not.toContain('<g onload');
    expect(texts(hostile, 'title')).toEqual(['A &amp; B &lt;script&gt;alert(1)&lt;/script&gt;']);
    expect(texts(hostile, 'x-label')).toEqual(['x &quot;quoted&quot;']);
    expect(texts(hostile, 'legend')).toEqual(['&lt;/text&gt;&lt;g onload=&quot;x&quot;&gt;']);
    expect(escapeXml("<a href='x'>&</a>")).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('skips points that are not finite rather than drawing NaN coordinates', () => {
    const partial = renderLineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            { x: 1, y: Number.NaN },
            { x: 2, y: 3 },
          ],
        },
      ],
    });
    expect(partial).not.toContain('NaN');
    expect(circles(partial)).toHaveLength(1);
  });
});
