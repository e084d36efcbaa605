import { Badge } from "@/components/ui/badge";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import type { OnnxDim, OnnxSignature, OnnxValueSignature } from "@/lib/onnx/types";

/** "[batch, 4]", "[] (scalar)", "any rank" — how shapes read in the signature table. */
export function formatShape(shape: OnnxDim[] | null): string {
  if (shape === null) return "any rank";
  if (shape.length === 0) return "scalar";
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

function Dims({ shape }: { shape: OnnxDim[] | null }) {
  if (shape === null) return <span className="text-muted-foreground">any rank</span>;
  if (shape.length === 0) return <span className="text-muted-foreground">scalar</span>;
  return (
    <span className="font-mono text-xs">
      [
      {shape.map((d, i) => (
        <span key={i}>
          {i > 0 ? ", " : ""}
          {typeof d === "string" ? (
            <span className="text-accent" title="symbolic (dynamic) dimension">
              {d}
            </span>
          ) : d === null ? (
            <span className="text-muted-foreground" title="unknown dimension">
              ?
            </span>
          ) : (
            d
          )}
        </span>
      ))}
      ]
    </span>
  );
}

function ValueRows({
  values,
  kind,
  showDescription,
}: {
  values: OnnxValueSignature[];
  kind: "input" | "output";
  showDescription: boolean;
}) {
  return values.map((v) => (
    <TR key={`${kind}-${v.name}`} data-testid={`signature-${kind}-${v.name}`}>
      <TD>
        <Badge variant={kind === "input" ? "accent" : "neutral"}>{kind}</Badge>
      </TD>
      <TD className="font-mono text-xs font-medium">{v.name}</TD>
      <TD className="font-mono text-xs">{v.dtype ?? v.type}</TD>
      <TD>
        <Dims shape={v.shape} />
      </TD>
      {showDescription ? (
        <TD className="max-w-80 truncate text-muted-foreground" title={v.docString}>
          {v.kind !== "tensor" ? <span className="mr-2 font-mono text-xs">{v.type}</span> : null}
          {v.docString}
        </TD>
      ) : null}
    </TR>
  ));
}

/** Inputs and outputs of an ONNX model: names, element types and shapes (symbolic dims highlighted). */
export function SignatureTable({ signature }: { signature: OnnxSignature }) {
  const values = [...signature.inputs, ...signature.outputs];
  // Most exporters write no per-value docs or non-tensor types; then the column is noise.
  const showDescription = values.some((v) => v.docString !== "" || v.kind !== "tensor");
  const columns = showDescription ? 5 : 4;
  return (
    <Table aria-label="Signature">
      <THead>
        <TR>
          <TH className="w-20">Role</TH>
          <TH>Name</TH>
          <TH>Type</TH>
          <TH>Shape</TH>
          {showDescription ? <TH>Description</TH> : null}
        </TR>
      </THead>
      <TBody>
        {signature.inputs.length + signature.outputs.length === 0 ? (
          <TEmptyRow colSpan={columns}>This model declares no inputs or outputs.</TEmptyRow>
        ) : (
          <>
            <ValueRows values={signature.inputs} kind="input" showDescription={showDescription} />
            <ValueRows values={signature.outputs} kind="output" showDescription={showDescription} />
          </>
        )}
      </TBody>
    </Table>
  );
}
