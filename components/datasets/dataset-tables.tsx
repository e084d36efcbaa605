import { Badge } from "@/components/ui/badge";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import {
  featureColumnsOf,
  type Cell,
  type ColumnInfo,
  type DatasetVersionDetail,
} from "@/lib/datasets/types";

const number = (n: number) =>
  Number.isInteger(n) ? new Intl.NumberFormat("en-US").format(n) : String(+n.toPrecision(6));

function roleOf(version: DatasetVersionDetail, column: string): "label" | "feature" | null {
  if (column === version.labelColumn) return "label";
  return featureColumnsOf(version.featureMapping).includes(column) ? "feature" : null;
}

/** Each column's inferred type, nulls, range or values, and its role (label / feature). */
export function ColumnTable({ version }: { version: DatasetVersionDetail }) {
  const inputOf = (c: string) =>
    version.featureMapping.kind === "named"
      ? Object.entries(version.featureMapping.inputs).find(([, col]) => col === c)?.[0]
      : version.featureMapping.input;
  return (
    <Table aria-label="Columns">
      <THead>
        <TR>
          <TH>Column</TH>
          <TH>Type</TH>
          <TH>Role</TH>
          <TH align="right">Empty</TH>
          <TH>Range or values</TH>
        </TR>
      </THead>
      <TBody>
        {version.columns.map((c: ColumnInfo) => {
          const role = roleOf(version, c.name);
          return (
            <TR key={c.name} data-testid={`column-${c.name}`}>
              <TD mono>{c.name}</TD>
              <TD>
                <span data-testid="column-type">{c.type}</span>
                {c.nullable ? <span className="text-muted-foreground"> · nullable</span> : null}
              </TD>
              <TD>
                {role === "label" ? (
                  <Badge variant="accent">label</Badge>
                ) : role === "feature" ? (
                  <Badge variant="outline">
                    feature → <span className="font-mono">{inputOf(c.name)}</span>
                  </Badge>
                ) : (
                  <span className="text-muted-foreground">—</span>
                )}
              </TD>
              <TD numeric muted>
                {c.nullCount}
              </TD>
              <TD wrap className="text-muted-foreground">
                {c.min !== undefined && c.max !== undefined
                  ? `${number(c.min)} … ${number(c.max)}`
                  : c.values
                    ? c.values.slice(0, 8).map(String).join(", ") +
                      (c.values.length > 8 ? ", …" : "")
                    : "many distinct values"}
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}

const show = (cell: Cell) => (cell === null ? "" : String(cell));

/** The first rows as stored, label column highlighted. */
export function PreviewTable({ version }: { version: DatasetVersionDetail }) {
  return (
    <Table aria-label="Preview" maxHeight="28rem" stickyHeader>
      <THead>
        <TR>
          <TH align="right">#</TH>
          {version.columns.map((c) => (
            <TH key={c.name} align={c.type === "string" || c.type === "boolean" ? "left" : "right"}>
              <span className={c.name === version.labelColumn ? "text-accent" : undefined}>
                {c.name}
              </span>
            </TH>
          ))}
        </TR>
      </THead>
      <TBody>
        {version.preview.map((row, i) => (
          <TR key={i} data-testid="preview-row">
            <TD numeric muted>
              {i + 1}
            </TD>
            {row.map((cell, j) => {
              const c = version.columns[j];
              const numeric = c?.type === "number" || c?.type === "integer";
              return (
                <TD
                  key={j}
                  numeric={numeric}
                  mono={!numeric}
                  className={cell === null ? "bg-muted/40" : undefined}
                >
                  {show(cell)}
                </TD>
              );
            })}
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
