"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useId } from "react";

import { cn, focusRing } from "@/components/ui/cn";

import { activeHref, navGroupsFor, type Role } from "./nav-items";

export type SidebarNavProps = {
  role: Role;
  /** Called when a link is clicked (the mobile drawer closes itself with it). */
  onNavigate?: () => void;
  className?: string;
};

/** Primary navigation; highlights the item owning the current path. */
export function SidebarNav({ role, onNavigate, className }: SidebarNavProps) {
  const pathname = usePathname() ?? "/";
  const idPrefix = useId();
  const groups = navGroupsFor(role);
  const current = activeHref(
    pathname,
    groups.flatMap((group) => group.items.map((item) => item.href)),
  );

  return (
    <nav aria-label="Main" className={cn("grid gap-5", className)}>
      {groups.map((group) => {
        const headingId = `${idPrefix}-${group.id}`;
        return (
          <div key={group.id} className="grid gap-1">
            {group.label ? (
              <p
                id={headingId}
                className="px-2 text-[11px] font-semibold tracking-wider text-muted-foreground uppercase"
              >
                {group.label}
              </p>
            ) : null}
            <ul className="grid gap-0.5" aria-labelledby={group.label ? headingId : undefined}>
              {group.items.map((item) => {
                const active = item.href === current;
                const Icon = item.icon;
                return (
                  <li key={item.href}>
                    <Link
                      href={item.href}
                      onClick={onNavigate}
                      aria-current={active ? (pathname === item.href ? "page" : "true") : undefined}
                      className={cn(
                        "group flex h-8 items-center gap-2.5 rounded-md px-2 text-[13px] font-medium transition-colors",
                        active
                          ? "bg-accent-subtle text-accent-subtle-foreground"
                          : "text-muted-foreground hover:bg-muted hover:text-foreground",
                        focusRing,
                        "focus-visible:outline-offset-0",
                      )}
                    >
                      <Icon
                        aria-hidden="true"
                        className={cn(
                          "size-4 shrink-0",
                          active
                            ? "text-accent"
                            : "text-muted-foreground group-hover:text-foreground",
                        )}
                      />
                      <span className="truncate">{item.label}</span>
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}
