"use client";

import * as DialogPrimitive from "@radix-ui/react-dialog";
import { MenuIcon, XIcon } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { cn, focusRing } from "@/components/ui/cn";

import { Brand } from "./brand";
import type { Role } from "./nav-items";
import { SidebarNav } from "./sidebar-nav";

/** Menu button + slide-in drawer holding the main navigation, for narrow screens. */
export function MobileNav({ role }: { role: Role }) {
  const [open, setOpen] = React.useState(false);

  return (
    <DialogPrimitive.Root open={open} onOpenChange={setOpen}>
      <DialogPrimitive.Trigger asChild>
        <Button variant="ghost" size="icon" aria-label="Open navigation menu">
          <MenuIcon aria-hidden="true" className="size-5" />
        </Button>
      </DialogPrimitive.Trigger>
      <DialogPrimitive.Portal>
        <DialogPrimitive.Overlay className="fixed inset-0 z-50 bg-overlay data-[state=closed]:animate-fade-out data-[state=open]:animate-fade-in lg:hidden" />
        <DialogPrimitive.Content
          aria-describedby={undefined}
          className={cn(
            "fixed inset-y-0 left-0 z-50 flex w-72 max-w-[calc(100vw-3rem)] flex-col border-r border-border bg-sidebar shadow-xl outline-none lg:hidden",
            "data-[state=closed]:animate-slide-out-left data-[state=open]:animate-slide-in-left",
          )}
        >
          <DialogPrimitive.Title className="sr-only">Navigation</DialogPrimitive.Title>
          <div className="flex h-14 shrink-0 items-center justify-between border-b border-border px-4">
            <Brand />
            <DialogPrimitive.Close
              className={cn(
                "inline-flex size-8 items-center justify-center rounded-md text-muted-foreground hover:bg-muted hover:text-foreground",
                focusRing,
              )}
            >
              <XIcon aria-hidden="true" className="size-5" />
              <span className="sr-only">Close navigation menu</span>
            </DialogPrimitive.Close>
          </div>
          <div className="flex-1 overflow-y-auto px-3 py-4">
            <SidebarNav role={role} onNavigate={() => setOpen(false)} />
          </div>
        </DialogPrimitive.Content>
      </DialogPrimitive.Portal>
    </DialogPrimitive.Root>
  );
}
