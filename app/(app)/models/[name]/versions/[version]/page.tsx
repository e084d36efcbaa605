import { notFound } from "next/navigation";
import { DownloadIcon } from "lucide-react";
import { AliasBadge } from "@/components/registry/alias-badge";
import { SampleRequestCard } from "@/components/registry/sample-request-card";
import { SignatureTable } from "@/components/registry/signature-table";
import { VersionActions } from "@/components/registry/version-actions";
import { VersionCompareMenu } from "@/components/registry/version-compare-menu";
import { VersionAbout, VersionLineage } from "@/components/registry/version-lineage";
import {
  readSignature,
  SectionHeading,
  VersionMetadata,
} from "@/components/registry/version-metadata";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { PageHeader } from "@/components/ui/page-header";
import { ApiError } from "@/lib/api/errors";
import { userCan } from "@/lib/auth/guard";
import { getPrisma } from "@/lib/db/client";
import { formatBytes } from "@/lib/format";
import { getModel, getVersion, listVersions } from "@/lib/registry";
import { getAliasServing } from "@/lib/serving/alias-serving";
import { getServingStatus } from "@/lib/serving/status";
import { exampleFor, trySignatureOf } from "@/lib/serving/try-example";
import { requireUser } from "../../../../current-user";

type Params = Promise<{ name: string; version: string }>;

/** A version path segment as a number; anything else cannot name a version. */
function versionNumber(text: string): number | null {
  return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2_147_483_647 ? Number(text) : null;
}

/** The model name from the path; a malformed escape cannot name a model (404, not 500). */
function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    notFound();
  }
}

function orNotFound(error: unknown): never {
  if (error instanceof ApiError && error.status === 404) notFound();
  throw error;
}

export async function generateMetadata({ params }: { params: Params }) {
  const { name, version } = await params;
  return { title: `v${version} · ${decodeName(name)} · ModelDeck` };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export default async function VersionPage({ params }: { params: Params }) {
  const raw = await params;
  const name = decodeName(raw.name);
  const number = versionNumber(raw.version);
  const user = await requireUser(`/models/${encodeURIComponent(name)}/versions/${raw.version}`);
  if (number === null) notFound();
  const db = getPrisma();
  const [model, version, versions, serving] = await Promise.all([
    getModel(db, name),
    getVersion(db, name, number),
    listVersions(db, name),
    getServingStatus(db, name),
  ]).catch(orNotFound);
  // The aliases that point at this version and are not served somewhere: the same answer the
  // alias cards, the models list, the Overview and system health give.
  const notServed = (await getAliasServing(db, { modelIds: [model.id] })).filter(
    (a) => a.version === number && a.state === "not_served",
  );
  const warmUpWarning =
    serving.warmUpWarnings.find((w) => w.version === number)?.warning ??
    serving.versions.find((v) => v.version === number)?.warmUpWarning ??
    null;
  const example = exampleFor(
    {
      signature: trySignatureOf(version.signature),
      sampleRequest: version.sampleRequest,
      warmUpWarning,
    },
    "infer",
  );

  const signature = readSignature(version.signature);
  const modelPath = `/models/${encodeURIComponent(name)}`;
  const artifact = `/api/v1/models/${encodeURIComponent(name)}/versions/${number}/artifact`;
  const current = Object.fromEntries(model.aliases.map((a) => [a.name, a.version]));
  const aliases = [...version.aliases].sort((a, b) =>
    a === "production" ? -1 : b === "production" ? 1 : a < b ? -1 : 1,
  );
  const others = versions
    .filter((v) => v.version !== number)
    .map((v) => ({ version: v.version, aliases: v.aliases, archived: v.status === "archived" }));
  const inputs = signature?.inputs.length ?? version.inputCount;
  const outputs = signature?.outputs.length ?? version.outputCount;

  return (
    <>
      <PageHeader
        breadcrumbs={[
          { label: "Models", href: "/models" },
          { label: name, href: modelPath },
          { label: `v${number}` },
        ]}
        title={
          <>
            {name} <span className="font-mono font-medium text-muted-foreground">v{number}</span>
          </>
        }
        actions={
          <>
            <VersionCompareMenu model={name} version={number} others={others} />
            <Button asChild variant="outline" size="sm">
              <a href={artifact} download={`${name}-v${number}.onnx`}>
                <DownloadIcon aria-hidden /> Download
              </a>
            </Button>
            <VersionActions
              model={name}
              version={number}
              status={version.status}
              aliases={version.aliases}
              current={current}
              approvalRequired={model.approvalRequired}
              canPromote={userCan(user, "models:promote")}
              canWrite={userCan(user, "models:write")}
            />
          </>
        }
      >
        <div className="flex flex-wrap items-center gap-x-4 gap-y-2 text-[13px] text-muted-foreground">
          <div className="flex flex-wrap items-center gap-1.5" data-testid="version-badges">
            <Badge variant={version.status === "ready" ? "success" : "neutral"} dot>
              {version.status}
            </Badge>
            {aliases.map((a) => (
              <AliasBadge key={a} name={a} />
            ))}
          </div>
          <ul className="flex flex-wrap items-center gap-x-4 gap-y-1" aria-label="Summary">
            <li>
              Uploaded <Time value={version.createdAt} className="text-foreground tabular-nums" />{" "}
              by <span className="text-foreground">{version.createdBy.label}</span>
            </li>
            <li className="tabular-nums">{formatBytes(version.sizeBytes)}</li>
            {inputs !== null && outputs !== null ? (
              <li>
                {plural(inputs, "input")}, {plural(outputs, "output")}
              </li>
            ) : null}
            {version.opset !== null ? <li>opset {version.opset}</li> : null}
          </ul>
        </div>
      </PageHeader>

      {version.status === "archived" ? (
        <Alert variant="warning" className="mb-6" title="This version is archived">
          It stays downloadable but cannot be promoted until it is restored
          {version.archivedAt ? (
            <>
              {" "}
              (archived <Time value={version.archivedAt} />)
            </>
          ) : null}
          .
        </Alert>
      ) : null}

      {notServed.length > 0 ? (
        <Alert
          variant="error"
          className="mb-6"
          title={`Not served on ${Math.max(...notServed.map((a) => a.notServedOn))} of ${notServed[0]!.instances} serving instance${notServed[0]!.instances === 1 ? "" : "s"}`}
          data-testid="version-not-served"
        >
          {notServed.map((a) => a.alias).join(", ")} {notServed.length === 1 ? "points" : "point"}{" "}
          at this version, but it cannot answer there:{" "}
          {notServed.find((a) => a.error)?.error?.message ?? "no load error reported yet"}
        </Alert>
      ) : null}

      <div className="grid items-start gap-6 xl:grid-cols-[minmax(0,1fr)_20rem] xl:grid-rows-[auto_auto_1fr]">
        <section aria-labelledby="signature-heading" className="min-w-0 xl:col-start-1">
          <SectionHeading
            id="signature-heading"
            title="Signature"
            aside={
              signature ? (
                <>
                  Named dimensions (like <span className="font-mono text-accent">batch</span>) are
                  dynamic; <span className="font-mono">?</span> is unknown.
                </>
              ) : null
            }
          />
          {signature ? (
            <SignatureTable signature={signature} />
          ) : (
            <Alert variant="warning">
              The signature of this version was not recorded in a format this version of ModelDeck
              reads.
            </Alert>
          )}
        </section>

        <section aria-labelledby="sample-heading" className="min-w-0 xl:col-start-1">
          <SectionHeading
            id="sample-heading"
            title="Sample request"
            aside="Warm-up, documentation and Try-it example"
          />
          <SampleRequestCard
            model={name}
            version={number}
            sampleRequest={version.sampleRequest}
            example={example}
            warmUpWarning={warmUpWarning}
            canWrite={userCan(user, "models:write")}
          />
        </section>

        <div className="grid min-w-0 gap-6 xl:col-start-2 xl:row-span-3 xl:row-start-1">
          <section aria-labelledby="about-heading">
            <SectionHeading id="about-heading" title="Description and tags" />
            <VersionAbout version={version} />
          </section>
          <section aria-labelledby="lineage-heading">
            <SectionHeading id="lineage-heading" title="Lineage" />
            <VersionLineage version={version} />
          </section>
        </div>

        <section aria-labelledby="metadata-heading" className="min-w-0 xl:col-start-1">
          <SectionHeading
            id="metadata-heading"
            title="Metadata"
            aside="Read from the ONNX file when it was uploaded"
          />
          <VersionMetadata version={version} signature={signature} />
        </section>
      </div>
    </>
  );
}
