"use client";

import { BookOpenIcon, ChevronsUpDownIcon, LogOutIcon, SettingsIcon } from "lucide-react";
import Link from "next/link";
import * as React from "react";

import { Badge, type BadgeVariant } from "@/components/ui/badge";
import { cn, focusRing } from "@/components/ui/cn";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Spinner } from "@/components/ui/spinner";

import { roleLabels, type Role, type ShellUser } from "./nav-items";

const roleBadge: Record<Role, BadgeVariant> = {
  admin: "accent",
  operator: "success",
  viewer: "neutral",
};

export function RoleBadge({ role, className }: { role: Role; className?: string }) {
  return (
    <Badge variant={roleBadge[role]} className={className}>
      {roleLabels[role]}
    </Badge>
  );
}

function initials(name: string, email: string): string {
  const source = name.trim() || email;
  const parts = source.split(/[\s._@-]+/).filter(Boolean);
  const letters = parts.length >= 2 ? `${parts[0]![0]}${parts[1]![0]}` : source.slice(0, 2);
  return letters.toUpperCase();
}

export function Avatar({ user, className }: { user: ShellUser; className?: string }) {
  return (
    <span
      aria-hidden="true"
      className={cn(
        "flex size-7 shrink-0 items-center justify-center rounded-full bg-accent-subtle text-[11px] font-semibold text-accent-subtle-foreground ring-1 ring-accent/20",
        className,
      )}
    >
      {initials(user.name, user.email)}
    </span>
  );
}

export type UserMenuProps = {
  user: ShellUser;
  /** Server action that ends the session. Without it the menu POSTs to /api/auth/sign-out. */
  signOutAction?: () => Promise<void>;
  /** "sidebar": full-width row with name and email; "compact": avatar-only button for the top bar. */
  variant?: "sidebar" | "compact";
};

async function defaultSignOut(): Promise<void> {
  await fetch("/api/auth/sign-out", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}

/** Account menu: who is signed in, their role, and Sign out. */
export function UserMenu({ user, signOutAction, variant = "sidebar" }: UserMenuProps) {
  const [signingOut, setSigningOut] = React.useState(false);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await (signOutAction ?? defaultSignOut)();
    } catch {
      // Fall through: the sign-in page re-checks the session either way.
    }
    // A full page load (not router.push) drops every cached RSC payload of the signed-in session.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.href = "/sign-in";
  };

  return (
    <DropdownMenu>
      <DropdownMenuTrigger
        aria-label={variant === "compact" ? `Account menu for ${user.name}` : undefined}
        className={cn(
          "flex items-center rounded-md text-left transition-colors data-[state=open]:bg-muted",
          variant === "sidebar"
            ? "w-full gap-2.5 px-2 py-1.5 hover:bg-muted"
            : "gap-1 p-1 hover:bg-muted",
          focusRing,
          "focus-visible:outline-offset-0",
        )}
      >
        <Avatar user={user} />
        {variant === "sidebar" ? (
          <>
            <span className="grid min-w-0 flex-1 leading-tight">
              <span className="truncate text-[13px] font-medium text-foreground">{user.name}</span>
              <span className="truncate text-xs text-muted-foreground">{user.email}</span>
            </span>
            <ChevronsUpDownIcon
              aria-hidden="true"
              className="size-4 shrink-0 text-muted-foreground"
            />
          </>
        ) : null}
      </DropdownMenuTrigger>
      <DropdownMenuContent
        align={variant === "sidebar" ? "start" : "end"}
        side={variant === "sidebar" ? "top" : "bottom"}
        className={
          variant === "sidebar" ? "w-(--radix-dropdown-menu-trigger-width) min-w-56" : "w-64"
        }
      >
        <DropdownMenuLabel className="grid gap-1 px-2 py-2 font-normal">
          <span className="flex items-center justify-between gap-2">
            <span className="truncate text-[13px] font-medium text-foreground">{user.name}</span>
            <RoleBadge role={user.role} />
          </span>
          <span className="truncate text-xs text-muted-foreground">{user.email}</span>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuItem asChild>
          <Link href="/settings">
            <SettingsIcon aria-hidden="true" />
            Settings
          </Link>
        </DropdownMenuItem>
        <DropdownMenuItem asChild>
          <Link href="/docs/api">
            <BookOpenIcon aria-hidden="true" />
            API docs
          </Link>
        </DropdownMenuItem>
        <DropdownMenuSeparator />
        <DropdownMenuItem
          disabled={signingOut}
          onSelect={(event) => {
            event.preventDefault();
            void signOut();
          }}
        >
          {signingOut ? <Spinner size="md" label={null} /> : <LogOutIcon aria-hidden="true" />}
          {signingOut ? "Signing out…" : "Sign out"}
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
