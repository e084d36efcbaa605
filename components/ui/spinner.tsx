import { Loader2Icon } from "lucide-react";

import { cn } from "./cn";

const sizes = { sm: "size-3.5", md: "size-4", lg: "size-6" } as const;

export type SpinnerProps = {
  size?: keyof typeof sizes;
  /** Accessible text announced to screen readers. Pass `null` when purely decorative (e.g. inside a busy button). */
  label?: string | null;
  className?: string;
};

/** Indeterminate loading indicator. */
export function Spinner({ size = "md", label = "Loading…", className }: SpinnerProps) {
  const icon = (
    <Loader2Icon
      aria-hidden="true"
      className={cn("shrink-0 animate-spin text-current", sizes[size], className)}
    />
  );
  if (label === null) return icon;
  return (
    <span role="status" className="inline-flex items-center">
      {icon}
      <span className="sr-only">{label}</span>
    </span>
  );
}
