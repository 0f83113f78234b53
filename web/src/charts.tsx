// Inline SVG charts: no chart library. Each chart is role="img" with a text summary for screen readers.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { fmtNumber } from "./format";

/** The rendered width of an element (so SVG text keeps its size instead of being stretched). */
function useWidth(fallback = 720) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(280, Math.round(el.clientWidth || fallback)));
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

const PALETTE = ["#2f6fde", "#e8793a", "#1e9e74", "#b0489e", "#c9a227", "#5a6b7d", "#d9534f", "#7a5cd6"];
export const color = (i: number) => PALETTE[i % PALETTE.length];

interface Series {
  name: string;
  values: number[];
}

/** An x label: "11-29" for a day, "11-29 14h" for an hour. */
export function shortLabel(x: string): string {
  return x.length > 10 ? `${x.slice(5, 10)} ${x.slice(11, 13)}h` : x.slice(5);
}

/** Every how many x values a label fits without overlapping its neighbours (about 7 px a character). */
export function labelStep(labels: string[], width: number): number {
  const widest = Math.max(1, ...labels.map((l) => l.length)) * 7 + 12;
  const fit = Math.max(1, Math.floor(width / widest));
  return Math.max(1, Math.ceil(labels.length / fit));
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const f = v / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** A chart's plot area: its width follows the element, a 48 px axis on the left, 24 px of labels below. */
function usePlot(height: number, top: number) {
  const [ref, W] = useWidth();
  const padL = 48;
  const innerW = W - padL - 8;
  const innerH = height - 24 - 8;
  return { ref, W, H: height, padL, innerW, innerH, top, yAt: (v: number) => 8 + innerH * (1 - v / top) };
}

/** The frame every chart shares: unit caption, an accessible summary, the y grid with its labels, the legend. */
function Plot(props: { plot: ReturnType<typeof usePlot>; unit: string; summary: string; names: string[]; children: ComponentChildren }) {
  const { plot, unit, summary } = props;
  const { W, H, padL, top, yAt } = plot;
  return (
    <figure class="chart" ref={plot.ref}>
      <figcaption class="axis-unit">{unit}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <title>{summary}</title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={padL} x2={W - 8} y1={yAt(top * f)} y2={yAt(top * f)} class="grid" />
            <text x={padL - 6} y={yAt(top * f) + 4} text-anchor="end" class="axis">
              {fmtNumber(top * f, top < 10 ? 1 : 0)}
            </text>
          </g>
        ))}
        {props.children}
      </svg>
      <Legend names={props.names} />
    </figure>
  );
}

/** Stacked daily bars (one colour per series) with a legend. Top `maxSeries` series; the rest become "other". */
export function StackedBars(props: {
  xs: string[];
  series: Series[];
  label: string;
  unit: string;
  maxSeries?: number;
  height?: number;
}) {
  const { xs, label, unit, height = 220 } = props;
  const max = props.maxSeries ?? 6;
  let series = props.series;
  if (series.length > max) {
    const rest = series.slice(max - 1);
    series = [
      ...series.slice(0, max - 1),
      { name: "other", values: xs.map((_, i) => rest.reduce((s, r) => s + (r.values[i] ?? 0), 0)) },
    ];
  }
  const totals = xs.map((_, i) => series.reduce((s, r) => s + (r.values[i] ?? 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plot = usePlot(height, top);
  const { H, padL, innerW, innerH } = plot;
  const bw = xs.length ? innerW / xs.length : innerW;
  const total = totals.reduce((a, b) => a + b, 0);
  const labels = xs.map(shortLabel);
  const step = labelStep(labels, innerW);
  const summary = `${label}: ${xs.length} bars, total ${fmtNumber(total, 1)} ${unit}, peak ${fmtNumber(
    Math.max(0, ...totals),
    1,
  )} ${unit}`;
  return (
    <Plot plot={plot} unit={unit} summary={summary} names={series.map((s) => s.name)}>
      {xs.map((x, i) => {
        let y = 8 + innerH;
        return (
          <g key={x}>
            {series.map((s, si) => {
              const h = ((s.values[i] ?? 0) / top) * innerH;
              y -= h;
              return (
                <rect
                  key={s.name}
                  x={padL + i * bw + bw * 0.1}
                  y={y}
                  width={Math.max(1, bw * 0.8)}
                  height={Math.max(0, h)}
                  fill={color(si)}
                >
                  <title>{`${x} · ${s.name}: ${fmtNumber(s.values[i], 2)} ${unit}`}</title>
                </rect>
              );
            })}
            {i % step === 0 && (
              <text x={padL + i * bw + bw / 2} y={H - 6} text-anchor="middle" class="axis">
                {labels[i]}
              </text>
            )}
          </g>
        );
      })}
    </Plot>
  );
}

export function Legend({ names }: { names: string[] }) {
  if (names.length <= 1) return null;
  return (
    <ul class="legend" aria-label="Legend">
      {names.map((n, i) => (
        <li key={n}>
          <span class="swatch" style={{ background: color(i) }} aria-hidden="true" />
          {n}
        </li>
      ))}
    </ul>
  );
}

/** A line chart of one or more series over the same x values. Optional horizontal reference lines. */
export function LineChart(props: {
  xs: string[];
  series: Series[];
  label: string;
  unit: string;
  refs?: { value: number; label: string }[];
  height?: number;
}) {
  const { xs, series, label, unit, refs = [], height = 200 } = props;
  const all = [...series.flatMap((s) => s.values), ...refs.map((r) => r.value)];
  const plot = usePlot(height, niceMax(Math.max(0, ...all)));
  const { W, H, padL, innerW, yAt } = plot;
  const xAt = (i: number) => padL + (xs.length <= 1 ? innerW / 2 : (i / (xs.length - 1)) * innerW);
  const labels = xs.map(shortLabel);
  const step = labelStep(labels, innerW);
  const summary = `${label}: ${series
    .map((s) => `${s.name} from ${fmtNumber(s.values[0], 1)} to ${fmtNumber(s.values[s.values.length - 1], 1)}`)
    .join("; ")} ${unit}`;
  return (
    <Plot plot={plot} unit={unit} summary={summary} names={series.map((s) => s.name)}>
      {refs.map((r) => (
        <g key={r.label}>
          <line x1={padL} x2={W - 8} y1={yAt(r.value)} y2={yAt(r.value)} class="ref" />
          <text x={W - 10} y={yAt(r.value) - 4} text-anchor="end" class="axis">
            {r.label}
          </text>
        </g>
      ))}
      {series.map((s, si) => (
        <g key={s.name}>
          <polyline
            fill="none"
            stroke={color(si)}
            stroke-width="2.5"
            points={s.values.map((v, i) => `${xAt(i)},${yAt(v)}`).join(" ")}
          />
          {s.values.length <= 60 &&
            s.values.map((v, i) => (
              <circle key={i} cx={xAt(i)} cy={yAt(v)} r="3" fill={color(si)}>
                <title>{`${xs[i]} · ${s.name}: ${fmtNumber(v, 2)} ${unit}`}</title>
              </circle>
            ))}
        </g>
      ))}
      {xs.map(
        (x, i) =>
          i % step === 0 && (
            <text
              key={x}
              x={xAt(i)}
              y={H - 6}
              text-anchor={xs.length > 1 && i === xs.length - 1 ? "end" : i === 0 && xs.length > 1 ? "start" : "middle"}
              class="axis"
            >
              {labels[i]}
            </text>
          ),
      )}
    </Plot>
  );
}

/** A half-circle gauge for a percentage (MFA adoption). */
export function Gauge({ value, label }: { value: number | undefined; label: string }) {
  const v = value === undefined ? 0 : Math.max(0, Math.min(100, value));
  const r = 80;
  const cx = 100;
  const cy = 95;
  const angle = Math.PI * (1 - v / 100);
  const x = cx + r * Math.cos(angle);
  const y = cy - r * Math.sin(angle);
  const tone = v >= 90 ? "#1e9e74" : v >= 60 ? "#c9a227" : "#d9534f";
  const text = value === undefined ? "no data" : `${v.toFixed(0)}%`;
  return (
    <div
      class="gauge"
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === undefined ? undefined : Math.round(v)}
      aria-valuetext={text}
    >
      <svg viewBox="0 0 200 110" aria-hidden="true">
        <path d={`M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}`} class="gauge-track" />
        {value !== undefined && v > 0 && (
          <path d={`M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x} ${y}`} stroke={tone} class="gauge-value" />
        )}
        <text x={cx} y={cy - 10} text-anchor="middle" class="gauge-text">
          {text}
        </text>
      </svg>
    </div>
  );
}

/** Spend against a budget, with markers at each threshold. */
export function BudgetBar(props: { percent: number | undefined; thresholds: number[]; label: string }) {
  const p = props.percent;
  const width = p === undefined ? 0 : Math.min(100, Math.max(0, p));
  const crossed = props.thresholds.filter((t) => p !== undefined && p >= t);
  const tone = p === undefined ? "" : p >= 100 ? "over" : crossed.length ? "warn" : "ok";
  return (
    <div class="budget-bar-wrap">
      <div
        class={`budget-bar ${tone}`}
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p === undefined ? undefined : Math.round(p)}
        aria-valuetext={p === undefined ? "no spend data yet" : `${p.toFixed(1)}% of budget`}
      >
        <div class="fill" style={{ width: `${width}%` }} />
        {props.thresholds
          .filter((t) => t <= 100)
          .map((t) => (
            <span key={t} class="marker" style={{ left: `${t}%` }} title={`threshold ${t}%`} aria-hidden="true" />
          ))}
      </div>
    </div>
  );
}

/** One series as bars over time (e.g. failed logins per hour or day). */
export function BarsOverTime(props: { xs: string[]; values: number[]; label: string; unit: string }) {
  return <StackedBars xs={props.xs} series={[{ name: props.unit, values: props.values }]} label={props.label} unit={props.unit} />;
}
