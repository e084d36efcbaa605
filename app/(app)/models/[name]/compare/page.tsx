import { firstParam, type SearchParams } from "../../../search-params";
import Link from "next/link";
import { notFound } from "next/navigation";
import { GitCompareIcon } from "lucide-react";
import {
  CompareFields,
  CompareOperators,
  CompareOpsets,
} from "@/components/registry/compare-fields";
import { ComparePickers } from "@/components/registry/compare-pickers";
import { CompareSignatureTable, describeInterface } from "@/components/registry/compare-signature";
import { CompareVersionCard } from "@/components/registry/compare-version-card";
import { readSignature, SectionHeading } from "@/components/registry/version-metadata";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { ApiError } from "@/lib/api/errors";
import { getPrisma } from "@/lib/db/client";
import { compareSignatures } from "@/lib/onnx/compare";
import { getVersion, listVersions, type VersionView } from "@/lib/registry";
import { requireUser } from "../../../current-user";

type Params = Promise<{ name: string }>;

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
  return { title: `Compare · ${decodeName((await params).name)} · ModelDeck` };
}

/** The versions the pickers start on: what the URL says, else the two newest. */
function defaults(versions: VersionView[], a: number | null, b: number | null) {
  const numbers = versions.map((v) => v.version);
  const pickB = b ?? numbers.find((n) => n !== a) ?? null;
  const pickA = a ?? numbers.find((n) => n !== pickB) ?? null;
  return { pickA, pickB };
}

function Legend() {
  const item = (swatch: string, label: string) => (
    <span className="inline-flex items-center gap-1.5">
      <span aria-hidden className={`size-2.5 rounded-sm border ${swatch}`} />
      {label}
    </span>
  );
  return (
    <span className="flex flex-wrap items-center gap-x-3 gap-y-1">
      {item("border-success/40 bg-success-subtle", "added in B")}
      {item("border-destructive/40 bg-destructive-subtle", "removed in B")}
      {item("border-warning/40 bg-warning-subtle", "changed")}
    </span>
  );
}

export default async function ComparePage({
  params,
  searchParams,
}: {
  params: Params;
  searchParams: Promise<SearchParams>;
}) {
  const name = decodeName((await params).name);
  const query = await searchParams;
  const rawA = firstParam(query.a);
  const rawB = firstParam(query.b);
  const modelPath = `/models/${encodeURIComponent(name)}`;
  const search = new URLSearchParams({
    ...(rawA ? { a: rawA } : {}),
    ...(rawB ? { b: rawB } : {}),
  });
  await requireUser(`${modelPath}/compare${search.size ? `?${search}` : ""}`);
  const db = getPrisma();
  // Throws the 404 of an unknown model.
  const versions = await listVersions(db, name).catch(orNotFound);

  const known = new Set(versions.map((v) => v.version));
  const parse = (raw: string | undefined) =>
    raw && /^[1-9][0-9]{0,9}$/.test(raw) && known.has(Number(raw)) ? Number(raw) : null;
  const a = parse(rawA);
  const b = parse(rawB);
  const unknown = [rawA, rawB].filter(
    (raw): raw is string => raw !== undefined && parse(raw) === null,
  );
  const { pickA, pickB } = defaults(versions, a, b);
  const pickable = versions.map((v) => ({
    version: v.version,
    aliases: v.aliases,
    archived: v.status === "archived",
  }));

  const header = (
    <PageHeader
      breadcrumbs={[
        { label: "Models", href: "/models" },
        { label: name, href: modelPath },
        { label: "Compare" },
      ]}
      title="Compare versions"
      description={
        <>
          What changed between two versions of{" "}
          <span className="font-medium text-foreground">{name}</span>: inputs and outputs, operator
          sets, weights and the file itself.
        </>
      }
    />
  );

  if (versions.length < 2) {
    return (
      <>
        {header}
        <EmptyState
          icon={<GitCompareIcon />}
          title="Nothing to compare yet"
          description={`${name} has ${versions.length === 0 ? "no versions" : "only one version"}. Upload another version to see what changed between the two: inputs and outputs, operator sets, parameters, size and checksum.`}
          action={
            <Button asChild variant="outline">
              <Link href={modelPath}>Back to {name}</Link>
            </Button>
          }
        />
      </>
    );
  }

  const active = a !== null && b !== null && a !== b && unknown.length === 0;
  const pickers = (
    <ComparePickers model={name} versions={pickable} a={pickA} b={pickB} active={active} />
  );

  if (a === null || b === null || unknown.length > 0) {
    return (
      <>
        {header}
        {pickers}
        {unknown.length > 0 ? (
          <Alert variant="error" className="mb-6" title="No such version">
            {unknown.map((raw) => `“${raw}”`).join(" and ")}{" "}
            {unknown.length === 1 ? "is not a version" : "are not versions"} of {name}. Choose from
            the lists above.
          </Alert>
        ) : null}
        <EmptyState
          icon={<GitCompareIcon />}
          title="Choose two versions to compare"
          description="Pick a version A (before) and B (after) to see whether callers can switch without changes, and how operator sets, weights and the file differ."
        />
      </>
    );
  }

  if (a === b) {
    return (
      <>
        {header}
        {pickers}
        <Alert variant="info" title="A and B are the same version">
          Choose two different versions of {name} to see what changed.
        </Alert>
      </>
    );
  }

  const [va, vb] = await Promise.all([getVersion(db, name, a), getVersion(db, name, b)]).catch(
    orNotFound,
  );
  const sa = readSignature(va.signature);
  const sb = readSignature(vb.signature);
  const labelA = `v${a}`;
  const labelB = `v${b}`;
  const diff = sa && sb ? compareSignatures(sa, sb) : null;

  return (
    <>
      {header}
      {pickers}

      <div className="mb-6 grid gap-3 md:grid-cols-2">
        <CompareVersionCard side="A" version={va} />
        <CompareVersionCard side="B" version={vb} />
      </div>

      {!sa || !sb || !diff ? (
        <Alert variant="warning" className="mb-6" title="Signatures cannot be compared">
          The signature of {!sa ? labelA : labelB} was not recorded in a format this version of
          ModelDeck reads.
        </Alert>
      ) : (
        <>
          <Alert
            variant={diff.sameInterface ? "success" : "warning"}
            className="mb-6"
            title={<span data-testid="compare-summary">{describeInterface(diff)}</span>}
          >
            {diff.sameInterface
              ? `Inputs and outputs match in name, type and shape: callers of ${labelA} can call ${labelB} unchanged.`
              : `Clients written for ${labelA} need changes before they can call ${labelB}.`}
            {diff.opsets.length > 0
              ? ` ${diff.opsets.length} operator ${diff.opsets.length === 1 ? "set differs" : "sets differ"}.`
              : ""}
          </Alert>

          <div className="space-y-8">
            {/*
              EVALUATION METRICS (a later issue): render the metrics recorded for A and B here,
              first after the verdict because they answer "is B better?". Use a section like the
              ones below (SectionHeading + a Table with A and B columns and a Change column) and
              the same added / removed / changed tints.
            */}

            <section aria-labelledby="io-heading">
              <SectionHeading id="io-heading" title="Inputs and outputs" aside={<Legend />} />
              <CompareSignatureTable a={sa} b={sb} diff={diff} labelA={labelA} labelB={labelB} />
            </section>

            <section aria-labelledby="opsets-heading">
              <SectionHeading
                id="opsets-heading"
                title="Operator sets"
                aside="Imported operator domains and their versions"
              />
              <CompareOpsets a={sa} b={sb} diff={diff} labelA={labelA} labelB={labelB} />
            </section>

            <section aria-labelledby="fields-heading">
              <SectionHeading
                id="fields-heading"
                title="Other differences"
                aside="File, producer, graph and weights; only fields that differ"
              />
              <CompareFields
                diff={diff}
                a={{ label: labelA, sizeBytes: va.sizeBytes, sha256: va.sha256 }}
                b={{ label: labelB, sizeBytes: vb.sizeBytes, sha256: vb.sha256 }}
              />
            </section>

            {diff.fields.some((f) => f.field === "opTypes") ? (
              <section aria-labelledby="ops-heading">
                <SectionHeading
                  id="ops-heading"
                  title="Operator usage"
                  aside="Nodes per operator type, main graph and subgraphs; only counts that differ"
                />
                <CompareOperators a={sa} b={sb} labelA={labelA} labelB={labelB} />
              </section>
            ) : null}
          </div>
        </>
      )}
    </>
  );
}
