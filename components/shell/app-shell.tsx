import type * as React from "react";

import { Brand } from "./brand";
import { MobileNav } from "./mobile-nav";
import type { ShellUser } from "./nav-items";
import { SidebarNav } from "./sidebar-nav";
import { UserMenu } from "./user-menu";

export type { Role, ShellUser } from "./nav-items";

export type AppShellProps = {
  user: ShellUser;
  /** Optional server action that ends the session; defaults to POST /api/auth/sign-out. */
  signOutAction?: () => Promise<void>;
  children: React.ReactNode;
};

/**
 * Authenticated layout: left sidebar on wide screens (≥1024px), top bar + drawer below that.
 * Renders the page's `<main id="main-content">`; pages render their own `<PageHeader>` inside.
 */
export function AppShell({ user, signOutAction, children }: AppShellProps) {
  return (
    <div className="min-h-dvh bg-background">
      <a
        href="#main-content"
        className="fixed top-2 left-2 z-[100] -translate-y-16 rounded-md bg-accent px-3 py-2 text-sm font-medium text-accent-foreground shadow-lg transition-transform focus:translate-y-0 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-ring"
      >
        Skip to content
      </a>

      {/* Wide screens: fixed sidebar (the banner landmark: brand, navigation, account). */}
      <header className="fixed inset-y-0 left-0 z-30 hidden w-60 flex-col border-r border-border bg-sidebar lg:flex">
        <div className="flex h-14 shrink-0 items-center px-5">
          <Brand />
        </div>
        <div className="flex-1 overflow-y-auto px-3 pt-2 pb-4">
          <SidebarNav role={user.role} />
        </div>
        <div className="shrink-0 border-t border-border p-2">
          <UserMenu user={user} signOutAction={signOutAction} variant="sidebar" />
        </div>
      </header>

      {/* Narrow screens: top bar with menu button. */}
      <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b border-border bg-card/95 px-2 backdrop-blur supports-[backdrop-filter]:bg-card/80 sm:px-4 lg:hidden">
        <MobileNav role={user.role} />
        <Brand />
        <div className="ml-auto">
          <UserMenu user={user} signOutAction={signOutAction} variant="compact" />
        </div>
      </header>

      <div className="lg:pl-60">
        <main
          id="main-content"
          tabIndex={-1}
          className="mx-auto w-full max-w-screen-2xl px-4 py-6 outline-none sm:px-6 lg:px-8 lg:py-8"
        >
          {children}
        </main>
      </div>
    </div>
  );
}
