import Link from "next/link";
import { notFound } from "next/navigation";
import { ColumnTable, PreviewTable } from "@/components/datasets/dataset-tables";
import { UploadDatasetDialog } from "@/components/datasets/upload-dataset-dialog";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { PageHeader } from "@/components/ui/page-header";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { ApiError } from "@/lib/api/errors";
import { userCan } from "@/lib/auth/guard";
import { describeMapping, getDataset, getDatasetVersion } from "@/lib/datasets";
import { getPrisma } from "@/lib/db/client";
import { formatBytes } from "@/lib/format";
import { requireUser } from "../../current-user";
import { firstParam, type SearchParams } from "../../search-params";

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }) {
  return { title: `${decodeURIComponent((await params).name)} · Datasets · ModelDeck` };
}

const count = (n: number) => new Intl.NumberFormat("en-US").format(n);

export default async function DatasetPage({
  params,
  searchParams,
}: {
  params: Promise<{ name: string }>;
  searchParams: Promise<SearchParams>;
}) {
  let name: string;
  try {
    name = decodeURIComponent((await params).name);
  } catch {
    notFound();
  }
  const user = await requireUser(`/datasets/${encodeURIComponent(name)}`);
  const db = getPrisma();
  const wanted = Number(firstParam((await searchParams).version)) || null;
  const loaded = await Promise.all([
    getDataset(db, name),
    getDatasetVersion(db, name, wanted),
  ]).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  });
  const [{ dataset, versions }, version] = loaded;
  const base = `/datasets/${encodeURIComponent(name)}`;

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: "Datasets", href: "/datasets" }, { label: name }]}
        title={name}
        description={dataset.description || undefined}
        actions={userCan(user, "models:write") ? <UploadDatasetDialog defaultName={name} /> : null}
      >
        <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-[13px] text-muted-foreground">
          <span>
            Showing <span className="font-mono text-foreground">v{version.version}</span> of{" "}
            {versions.length}
          </span>
          <span data-testid="dataset-row-count">{count(version.rowCount)} rows</span>
          <span>{version.columns.length} columns</span>
          <span>
            label <span className="font-mono text-foreground">{version.labelColumn}</span>
          </span>
          <span>{describeMapping(version.featureMapping)}</span>
          <span>
            {version.format} · {formatBytes(version.sizeBytes)}
          </span>
          <span className="font-mono text-xs" title={version.sha256}>
            sha256 {version.sha256.slice(0, 12)}…
          </span>
        </div>
      </PageHeader>

      <div className="mb-6 grid gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <section aria-labelledby="columns-heading" className="min-w-0">
          <h2 id="columns-heading" className="mb-2 text-sm font-semibold">
            Columns
          </h2>
          <ColumnTable version={version} />
        </section>
        <section aria-labelledby="versions-heading" className="min-w-0">
          <h2 id="versions-heading" className="mb-2 text-sm font-semibold">
            Versions
          </h2>
          <Table aria-label="Dataset versions">
            <THead>
              <TR>
                <TH>Version</TH>
                <TH align="right">Rows</TH>
                <TH>Features</TH>
                <TH>Uploaded</TH>
              </TR>
            </THead>
            <TBody>
              {versions.map((v) => (
                <TR key={v.id} selected={v.version === version.version}>
                  <TD>
                    <Link
                      href={`${base}?version=${v.version}`}
                      className="font-mono font-medium text-accent hover:underline"
                    >
                      v{v.version}
                    </Link>
                    {v.version === versions[0]!.version ? (
                      <Badge variant="neutral" className="ml-2">
                        latest
                      </Badge>
                    ) : null}
                  </TD>
                  <TD numeric>{count(v.rowCount)}</TD>
                  <TD muted>{describeMapping(v.featureMapping)}</TD>
                  <TD muted>
                    <Time value={v.createdAt} /> · {v.createdBy.label}
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
        </section>
      </div>

      <section aria-labelledby="preview-heading">
        <h2 id="preview-heading" className="mb-2 text-sm font-semibold">
          Preview{" "}
          <span className="font-normal text-muted-foreground">
            first {version.preview.length} of {count(version.rowCount)} rows
          </span>
        </h2>
        <PreviewTable version={version} />
      </section>
    </>
  );
}
