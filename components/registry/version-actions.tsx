"use client";

import { useState } from "react";
import { ChevronDownIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { PromoteDialog } from "./promote-dialog";
import { RegistryAction, type RegistryActionProps } from "./registry-action";
import { SetAliasDialog } from "./set-alias-dialog";

type Props = {
  model: string;
  version: number;
  status: "ready" | "archived";
  /** aliases pointing at this version */
  aliases: string[];
  /** every alias of the model and the version it points at */
  current: Record<string, number>;
  approvalRequired: boolean;
  canPromote: boolean;
  canWrite: boolean;
};

/**
 * Per-version actions: promote to production/staging (with its pre-flight), point another
 * alias at it, archive or restore; each confirmed.
 */
export function VersionActions(props: Props) {
  const { model, version, status, aliases, current, approvalRequired, canPromote, canWrite } =
    props;
  const [pending, setPending] = useState<Omit<RegistryActionProps, "open" | "onOpenChange"> | null>(
    null,
  );
  const [aliasDialog, setAliasDialog] = useState(false);
  const [promoting, setPromoting] = useState<string | null>(null);
  const base = `/api/v1/models/${encodeURIComponent(model)}`;

  const canArchive = canWrite && status === "ready" && aliases.length === 0;
  const items = [
    canPromote && status === "ready" && !aliases.includes("production") ? "production" : null,
    canPromote && status === "ready" && !aliases.includes("staging") ? "staging" : null,
  ].filter((x): x is string => x !== null);

  if (!canWrite && !canPromote) return null;
  return (
    <>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button size="sm" variant="outline" aria-label={`Actions for v${version}`}>
            Actions <ChevronDownIcon aria-hidden />
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="end">
          <DropdownMenuLabel>v{version}</DropdownMenuLabel>
          {items.map((alias) => (
            <DropdownMenuItem key={alias} onSelect={() => setPromoting(alias)}>
              Promote to {alias}
            </DropdownMenuItem>
          ))}
          {items.length === 0 && status === "ready" ? (
            <DropdownMenuItem disabled>Already production and staging</DropdownMenuItem>
          ) : null}
          {canWrite && status === "ready" ? (
            <DropdownMenuItem onSelect={() => setAliasDialog(true)}>
              Set another alias…
            </DropdownMenuItem>
          ) : null}
          {canWrite ? <DropdownMenuSeparator /> : null}
          {canWrite && status === "archived" ? (
            <DropdownMenuItem
              onSelect={() =>
                setPending({
                  title: `Restore ${model} v${version}?`,
                  changes: ["The version can be promoted again."],
                  confirmLabel: "Restore",
                  call: {
                    method: "PATCH",
                    path: `${base}/versions/${version}`,
                    body: { status: "ready" },
                  },
                })
              }
            >
              Restore
            </DropdownMenuItem>
          ) : null}
          {canWrite && status === "ready" ? (
            <DropdownMenuItem
              disabled={!canArchive}
              variant="destructive"
              onSelect={() =>
                setPending({
                  title: `Archive ${model} v${version}?`,
                  changes: [
                    "It can no longer be promoted until restored.",
                    "Its file and history are kept.",
                  ],
                  confirmLabel: "Archive",
                  destructive: true,
                  call: {
                    method: "PATCH",
                    path: `${base}/versions/${version}`,
                    body: { status: "archived" },
                  },
                })
              }
            >
              {canArchive ? "Archive" : "Archive (remove its aliases first)"}
            </DropdownMenuItem>
          ) : null}
        </DropdownMenuContent>
      </DropdownMenu>
      {aliasDialog ? (
        <SetAliasDialog
          model={model}
          version={version}
          current={current}
          open
          onOpenChange={setAliasDialog}
        />
      ) : null}
      {promoting ? (
        <PromoteDialog
          model={model}
          version={version}
          alias={promoting}
          from={current[promoting] ?? null}
          needsApproval={promoting === "production" && approvalRequired}
          onOpenChange={(open) => !open && setPromoting(null)}
        />
      ) : null}
      {pending ? (
        <RegistryAction {...pending} open onOpenChange={(open) => !open && setPending(null)} />
      ) : null}
    </>
  );
}
