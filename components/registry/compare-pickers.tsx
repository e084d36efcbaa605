import { NativeSelect } from "@/components/ui/native-select";
import Link from "next/link";
import { ArrowRightIcon, ArrowRightLeftIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";

export type PickableVersion = { version: number; aliases: string[]; archived: boolean };

function optionLabel(v: PickableVersion): string {
  const notes = [...v.aliases, ...(v.archived ? ["archived"] : [])];
  return notes.length ? `v${v.version} — ${notes.join(", ")}` : `v${v.version}`;
}

function VersionSelect({
  name,
  value,
  versions,
}: {
  name: "a" | "b";
  value: number | null;
  versions: readonly PickableVersion[];
}) {
  return (
    <NativeSelect name={name} defaultValue={value === null ? "" : String(value)} required>
      {value === null ? (
        <option value="" disabled>
          Choose a version
        </option>
      ) : null}
      {versions.map((v) => (
        <option key={v.version} value={v.version}>
          {optionLabel(v)}
        </option>
      ))}
    </NativeSelect>
  );
}

/**
 * Two native selects in a GET form, so the comparison is a plain URL (?a=1&b=2) that can be
 * shared and works before any JavaScript loads.
 */
export function ComparePickers({
  model,
  versions,
  a,
  b,
  active = false,
}: {
  model: string;
  /** newest first */
  versions: readonly PickableVersion[];
  a: number | null;
  b: number | null;
  /** A and B come from the URL and are being compared (offers "Swap"). */
  active?: boolean;
}) {
  const path = `/models/${encodeURIComponent(model)}/compare`;
  return (
    <form
      method="get"
      action={path}
      aria-label="Choose versions to compare"
      className="mb-6 flex flex-col gap-3 rounded-lg border border-border bg-card p-3 sm:flex-row sm:flex-wrap sm:items-end"
    >
      <Field label="Version A (before)" className="sm:w-60">
        <VersionSelect name="a" value={a} versions={versions} />
      </Field>
      <ArrowRightIcon
        aria-hidden
        className="mb-2 hidden size-4 shrink-0 text-muted-foreground sm:block"
      />
      <Field label="Version B (after)" className="sm:w-60">
        <VersionSelect name="b" value={b} versions={versions} />
      </Field>
      <div className="flex items-center gap-2">
        <Button type="submit" variant="primary">
          Compare
        </Button>
        {active && a !== null && b !== null ? (
          <Button asChild variant="ghost">
            <Link href={`${path}?a=${b}&b=${a}`} title="Swap A and B">
              <ArrowRightLeftIcon aria-hidden /> Swap
            </Link>
          </Button>
        ) : null}
      </div>
    </form>
  );
}
