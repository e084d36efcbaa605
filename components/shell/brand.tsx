import Link from "next/link";

import { cn, focusRing } from "@/components/ui/cn";

/** Product mark + name, linking to the overview. */
export function Brand({ className }: { className?: string }) {
  return (
    <Link
      href="/"
      className={cn(
        "inline-flex items-center gap-2 rounded-md text-[15px] font-semibold tracking-tight text-foreground",
        focusRing,
        className,
      )}
    >
      <span
        aria-hidden="true"
        className="flex size-6 items-center justify-center rounded-md bg-accent text-accent-foreground shadow-xs"
      >
        <svg viewBox="0 0 16 16" className="size-3.5" fill="none">
          <rect x="2" y="2.5" width="12" height="3" rx="1" fill="currentColor" />
          <rect x="2" y="6.5" width="12" height="3" rx="1" fill="currentColor" opacity="0.75" />
          <rect x="2" y="10.5" width="12" height="3" rx="1" fill="currentColor" opacity="0.5" />
        </svg>
      </span>
      ModelDeck
    </Link>
  );
}
