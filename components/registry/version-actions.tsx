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

/** Per-version actions: promote to production/staging, archive or restore; each confirmed. */
export function VersionActions(props: Props) {
  const { model, version, status, aliases, current, approvalRequired, canPromote, canWrite } =
    props;
  const [pending, setPending] = useState<Omit<RegistryActionProps, "open" | "onOpenChange"> | null>(
    null,
  );
  const [aliasDialog, setAliasDialog] = useState(false);
  const base = `/api/v1/models/${encodeURIComponent(model)}`;

  function promote(alias: string) {
    const from = current[alias];
    const needsApproval = alias === "production" && approvalRequired;
    setPending({
      title: needsApproval
        ? `Request production for ${model} v${version}?`
        : `Promote ${model} v${version} to ${alias}?`,
      changes: needsApproval
        ? [
            `A promotion request is created; production stays on ${from ? `v${from}` : "nothing"} until another admin approves it.`,
          ]
        : [
            from
              ? `${alias} moves from v${from} to v${version}.`
              : `${alias} is created, pointing at v${version}.`,
            alias === "production"
              ? "Serving switches to v" + version + " for requests without a version."
              : `Clients that ask for ${alias} get v${version}.`,
            "The move is recorded in the alias history and the audit log.",
          ],
      confirmLabel: needsApproval ? "Request approval" : `Promote to ${alias}`,
      reason: { field: "reason", label: "Reason" },
      call: { method: "PUT", path: `${base}/aliases/${alias}`, body: { version } },
    });
  }

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
            <DropdownMenuItem key={alias} onSelect={() => promote(alias)}>
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
      <SetAliasDialog
        model={model}
        version={version}
        current={current}
        open={aliasDialog}
        onOpenChange={setAliasDialog}
      />
      {pending ? (
        <RegistryAction {...pending} open onOpenChange={(open) => !open && setPending(null)} />
      ) : null}
    </>
  );
}
