import { clsx, type ClassValue } from "clsx";
import { twMerge } from "tailwind-merge";

/** Merge class names; later Tailwind utilities win over earlier conflicting ones. */
export function cn(...inputs: ClassValue[]): string {
  return twMerge(clsx(inputs));
}

/** Shared keyboard focus ring for clickable controls (buttons, links, menu triggers). */
export const focusRing =
  "outline-none focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-ring focus-visible:outline-solid";

/** Shared look for text-like form controls (input, textarea, select trigger). */
export const controlBase =
  "w-full rounded-md border border-input bg-card text-foreground shadow-xs transition-[color,border-color,box-shadow] outline-none " +
  "placeholder:text-muted-foreground/80 hover:border-border-strong " +
  "focus-visible:border-ring focus-visible:ring-3 focus-visible:ring-ring/25 " +
  "disabled:cursor-not-allowed disabled:bg-muted disabled:text-muted-foreground disabled:opacity-70 " +
  "aria-invalid:border-destructive aria-invalid:focus-visible:ring-destructive/25 " +
  "read-only:bg-subtle";
