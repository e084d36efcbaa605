"use client";

import Link from "next/link";
import { ChevronDownIcon, GitCompareIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuShortcut,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";

export type CompareTarget = { version: number; aliases: string[]; archived: boolean };

/** "Compare with…": this version (A) against another one (B), picked from a menu of links. */
export function VersionCompareMenu({
  model,
  version,
  others,
}: {
  model: string;
  version: number;
  /** every other version of the model, newest first */
  others: CompareTarget[];
}) {
  const base = `/models/${encodeURIComponent(model)}/compare`;
  if (others.length === 0) {
    return (
      <Button variant="outline" size="sm" disabled title="This model has no other version yet">
        <GitCompareIcon aria-hidden /> Compare with…
      </Button>
    );
  }
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="outline" size="sm">
          <GitCompareIcon aria-hidden /> Compare with… <ChevronDownIcon aria-hidden />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="max-h-80 min-w-52">
        <DropdownMenuLabel>Compare v{version} with</DropdownMenuLabel>
        {others.map((o) => (
          <DropdownMenuItem key={o.version} asChild>
            <Link href={`${base}?a=${version}&b=${o.version}`}>
              <span className="font-mono">v{o.version}</span>
              <DropdownMenuShortcut className="tracking-normal">
                {[...o.aliases, ...(o.archived ? ["archived"] : [])].join(", ")}
              </DropdownMenuShortcut>
            </Link>
          </DropdownMenuItem>
        ))}
        <DropdownMenuSeparator />
        <DropdownMenuItem asChild>
          <Link href={`${base}?a=${version}`}>Choose two versions…</Link>
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
