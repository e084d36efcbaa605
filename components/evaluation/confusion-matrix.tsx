import type { ClassificationMetrics } from "@/lib/evaluation/types";

/**
 * The confusion matrix as a table: rows are the true class, columns the predicted one. Each
 * cell is shaded by its share of its row (how the true class's rows were predicted); the
 * diagonal in the accent colour, mistakes in the destructive one.
 */
export function ConfusionMatrix({ matrix }: { matrix: ClassificationMetrics["confusionMatrix"] }) {
  const { labels, matrix: m } = matrix;
  const rowTotals = m.map((row) => row.reduce((a, b) => a + b, 0));
  const colTotals = labels.map((_, j) => m.reduce((a, row) => a + row[j]!, 0));
  return (
    <div
      className="overflow-auto rounded-lg border border-border bg-card"
      data-testid="confusion-matrix"
    >
      <table
        className="border-separate border-spacing-0 text-[13px] tabular-nums"
        aria-label="Confusion matrix"
      >
        <thead>
          <tr>
            <th
              scope="col"
              className="border-b border-border bg-subtle px-3 py-1.5 text-left text-xs font-medium text-muted-foreground"
            >
              true ↓ · predicted →
            </th>
            {labels.map((l) => (
              <th
                key={l}
                scope="col"
                className="border-b border-border bg-subtle px-3 py-1.5 text-right text-xs font-medium"
              >
                {l}
              </th>
            ))}
            <th
              scope="col"
              className="border-b border-l border-border bg-subtle px-3 py-1.5 text-right text-xs font-medium text-muted-foreground"
            >
              rows
            </th>
          </tr>
        </thead>
        <tbody>
          {m.map((row, i) => (
            <tr key={labels[i]}>
              <th
                scope="row"
                className="border-b border-border bg-subtle px-3 py-1.5 text-left text-xs font-medium"
              >
                {labels[i]}
              </th>
              {row.map((value, j) => {
                const share = rowTotals[i]! > 0 ? value / rowTotals[i]! : 0;
                const diagonal = i === j;
                // sqrt: a few mistakes out of many rows must still show.
                const alpha = value === 0 ? 0 : 0.12 + 0.6 * Math.sqrt(share);
                return (
                  <td
                    key={j}
                    className="min-w-16 border-b border-border px-3 py-1.5 text-right"
                    style={{
                      backgroundColor:
                        value === 0
                          ? undefined
                          : `color-mix(in oklab, var(--${diagonal ? "accent" : "destructive"}) ${Math.round(alpha * 100)}%, transparent)`,
                      fontWeight: diagonal ? 600 : undefined,
                    }}
                    title={`${value} of ${rowTotals[i]} ${labels[i]} rows predicted as ${labels[j]} (${(share * 100).toFixed(1)}%)`}
                    data-testid={`cm-${i}-${j}`}
                  >
                    {value}
                  </td>
                );
              })}
              <td className="border-b border-l border-border px-3 py-1.5 text-right text-muted-foreground">
                {rowTotals[i]}
              </td>
            </tr>
          ))}
          <tr>
            <th
              scope="row"
              className="bg-subtle px-3 py-1.5 text-left text-xs font-medium text-muted-foreground"
            >
              predicted
            </th>
            {colTotals.map((t, j) => (
              <td key={j} className="px-3 py-1.5 text-right text-muted-foreground">
                {t}
              </td>
            ))}
            <td className="border-l border-border px-3 py-1.5 text-right text-muted-foreground">
              {rowTotals.reduce((a, b) => a + b, 0)}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
