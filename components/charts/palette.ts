/**
 * Chart colours from the design tokens (app/globals.css --chart-1..6, with dark-theme values),
 * as CSS variables so SVG strokes and fills follow the theme. Series take them in order.
 */
export const SERIES_COLORS = [
  "var(--chart-1)",
  "var(--chart-2)",
  "var(--chart-3)",
  "var(--chart-4)",
  "var(--chart-5)",
  "var(--chart-6)",
] as const;

export const seriesColor = (index: number): string =>
  SERIES_COLORS[((index % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length]!;

/** Axis, grid and marker colours shared by every chart. */
export const CHART_THEME = {
  axis: "var(--muted-foreground)",
  grid: "var(--border)",
  cursor: "var(--border-strong)",
  card: "var(--card)",
  /** The version in production: the same green as its alias badge. */
  production: "var(--success)",
  fontSize: 11,
} as const;
