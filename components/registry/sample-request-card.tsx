"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PencilIcon, PlusIcon } from "lucide-react";
import { apiFetch, type ApiClientError } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { RegistryAction } from "@/components/registry/registry-action";
import { panelClass } from "@/components/registry/version-metadata";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { Textarea } from "@/components/ui/textarea";
import type { SampleRequest } from "@/lib/serving/sample-request";
import { prettyJson, type ExampleBody } from "@/lib/serving/try-example";

/**
 * A version's sample request: the inference request serving warms it up with and that documents
 * how to call it (the Try-it example too). Shows the stored one, or the example built from the
 * signature (or why there is none: serving's synthetic warm-up failed on this version); people
 * who may edit the registry can set, replace or remove it.
 */
export function SampleRequestCard({
  model,
  version,
  sampleRequest,
  example,
  warmUpWarning,
  canWrite,
}: {
  model: string;
  version: number;
  sampleRequest: SampleRequest | null;
  /** The example offered without a sample (from lib/serving/try-example `exampleFor`). */
  example: ExampleBody;
  warmUpWarning: string | null;
  canWrite: boolean;
}) {
  const path = `/api/v1/models/${encodeURIComponent(model)}/versions/${version}/sample-request`;
  const stored = sampleRequest ? prettyJson(sampleRequest) : null;
  const shown = stored ?? (example.body || null);
  return (
    <div className="grid gap-3">
      {!sampleRequest && warmUpWarning ? (
        <Alert
          variant="warning"
          title="Served with a warm-up warning"
          data-testid="warm-up-warning"
        >
          {warmUpWarning.replace(/[.\s]+$/, "")}. The version is served; store a sample request it
          answers so serving warms it up with that.
        </Alert>
      ) : null}
      <div className={panelClass} data-testid="sample-request">
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-border px-4 py-2.5">
          <p className="min-w-0 flex-1 text-[13px] text-muted-foreground">
            {sampleRequest
              ? "Serving warms up with this request; Try it starts from it."
              : example.source === "synthetic"
                ? "None stored: an example built from the signature. Serving warms up with zeros, dynamic dimensions set to 1."
                : "No sample request stored."}
          </p>
          <div className="flex shrink-0 items-center gap-1.5">
            {shown ? <CopyButton value={shown} size="sm" variant="ghost" /> : null}
            {canWrite ? (
              <SampleRequestDialog
                path={path}
                initial={stored ?? example.body}
                replacing={sampleRequest !== null}
              />
            ) : null}
            {canWrite && sampleRequest ? (
              <RegistryAction
                trigger={
                  <Button variant="ghost" size="sm">
                    Remove
                  </Button>
                }
                title={`Remove the sample request of v${version}?`}
                changes={[
                  "Serving warms the version up with a synthetic request again (its failure is a warning, not a load failure).",
                  "Try it offers an example built from the signature instead.",
                ]}
                confirmLabel="Remove"
                destructive
                call={{ method: "DELETE", path }}
              />
            ) : null}
          </div>
        </div>
        {shown ? (
          <pre
            className="max-h-80 overflow-auto px-4 py-3 font-mono text-xs leading-5 break-words whitespace-pre-wrap"
            aria-label={sampleRequest ? "Sample request" : "Example request"}
            tabIndex={0}
          >
            {shown}
          </pre>
        ) : (
          <p className="px-4 py-3 text-[13px] text-muted-foreground" data-testid="no-example">
            {!sampleRequest && warmUpWarning
              ? "No example: one built from the signature fails on this version (see the warning above). Set a sample request it answers."
              : (example.note ?? "This version's signature was not recorded in a readable format.")}
          </p>
        )}
      </div>
    </div>
  );
}

function SampleRequestDialog({
  path,
  initial,
  replacing,
}: {
  path: string;
  initial: string;
  replacing: boolean;
}) {
  const router = useRouter();
  const [text, setText] = useState(initial);
  return (
    <FormDialog
      trigger={
        <Button variant="outline" size="sm">
          {replacing ? <PencilIcon aria-hidden /> : <PlusIcon aria-hidden />}
          {replacing ? "Edit" : "Set sample request"}
        </Button>
      }
      onOpenChange={(open) => open && setText(initial)}
      size="lg"
      title={replacing ? "Edit the sample request" : "Set a sample request"}
      description="An Open Inference Protocol request body this version answers. It is checked against the signature and run by onnxruntime before it is stored; serving instances then reload the version with it."
      submitLabel="Save"
      onSubmit={async () => {
        let sampleRequest: unknown;
        try {
          sampleRequest = JSON.parse(text);
        } catch (e) {
          throw new Error(`The request is not valid JSON: ${(e as Error).message}`);
        }
        await apiFetch(path, { method: "PUT", body: { sampleRequest } });
        router.refresh();
      }}
    >
      {(error) => (
        <Field label="Request body" error={fieldErrors(error)}>
          <Textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={14}
            spellCheck={false}
            autoComplete="off"
            className="font-mono text-xs leading-5"
          />
        </Field>
      )}
    </FormDialog>
  );
}

/** The API's problems with the request (its fields are `sampleRequest…`), as messages. */
function fieldErrors(error: ApiClientError | null): string[] | undefined {
  const problems = error?.fields.filter((f) => f.field.startsWith("sampleRequest")) ?? [];
  if (problems.length === 0) return undefined;
  return problems.map((p) =>
    p.field === "sampleRequest" ? capitalise(p.message) : `${p.field.slice(14)}: ${p.message}`,
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
