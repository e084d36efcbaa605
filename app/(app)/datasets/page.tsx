import Link from "next/link";
import { DatabaseIcon } from "lucide-react";
import { UploadDatasetDialog } from "@/components/datasets/upload-dataset-dialog";
import { Time } from "@/components/time";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { userCan } from "@/lib/auth/guard";
import { describeMapping, listDatasets } from "@/lib/datasets";
import { getPrisma } from "@/lib/db/client";
import { formatBytes } from "@/lib/format";
import { requireUser } from "../current-user";

export const metadata = { title: "Datasets · ModelDeck" };

const count = (n: number) => new Intl.NumberFormat("en-US").format(n);

export default async function DatasetsPage() {
  const user = await requireUser("/datasets");
  const datasets = await listDatasets(getPrisma());
  const canUpload = userCan(user, "models:write");
  return (
    <>
      <PageHeader
        title="Datasets"
        description="Labelled rows that models are evaluated on: immutable versions with inferred column types and a mapping from columns to model inputs."
        actions={canUpload ? <UploadDatasetDialog /> : null}
      />
      {datasets.length === 0 ? (
        <EmptyState
          bordered
          icon={<DatabaseIcon />}
          title="No datasets yet"
          description={
            canUpload
              ? "Upload a CSV or JSON Lines file with a label column; every row is checked before it is stored (or POST /api/v1/datasets)."
              : "Datasets appear here once an operator uploads one."
          }
        />
      ) : (
        <Table aria-label="Datasets">
          <THead>
            <TR>
              <TH>Name</TH>
              <TH align="right">Latest</TH>
              <TH align="right">Rows</TH>
              <TH align="right">Columns</TH>
              <TH>Label</TH>
              <TH>Features</TH>
              <TH>Format</TH>
              <TH align="right">Size</TH>
              <TH>Updated</TH>
            </TR>
          </THead>
          <TBody>
            {datasets.map((d) => (
              <TR key={d.id} data-testid={`dataset-row-${d.name}`}>
                <TD>
                  <Link
                    href={`/datasets/${encodeURIComponent(d.name)}`}
                    className="font-medium text-accent hover:underline"
                  >
                    {d.name}
                  </Link>
                  {d.description ? (
                    <div
                      className="max-w-72 truncate text-xs text-muted-foreground"
                      title={d.description}
                    >
                      {d.description}
                    </div>
                  ) : null}
                </TD>
                <TD numeric mono>
                  {d.latest ? `v${d.latest.version}` : "—"}
                </TD>
                <TD numeric>{d.latest ? count(d.latest.rowCount) : "—"}</TD>
                <TD numeric>{d.latest?.columns.length ?? "—"}</TD>
                <TD mono>{d.latest?.labelColumn ?? "—"}</TD>
                <TD muted>{d.latest ? describeMapping(d.latest.featureMapping) : "—"}</TD>
                <TD muted>{d.latest?.format ?? "—"}</TD>
                <TD numeric muted>
                  {d.latest ? formatBytes(d.latest.sizeBytes) : "—"}
                </TD>
                <TD muted>
                  <Time value={d.updatedAt} />
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </>
  );
}
