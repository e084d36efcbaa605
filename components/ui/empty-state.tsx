import type * as React from "react";

import { cn } from "./cn";

export type EmptyStateProps = {
  /** An icon element, e.g. `<BoxesIcon />`; sized automatically. */
  icon?: React.ReactNode;
  title: React.ReactNode;
  description?: React.ReactNode;
  /** Primary next step, e.g. `<Button asChild variant="primary"><Link …>Register a model</Link></Button>`. */
  action?: React.ReactNode;
  /** Heading level for the title (default h2); one below the section it sits in. */
  headingLevel?: "h2" | "h3" | "h4" | "h5";
  /** Dashed bordered box (default) or plain. */
  bordered?: boolean;
  className?: string;
  children?: React.ReactNode;
};

/** Placeholder for "nothing here yet" and for sections whose features come later. */
export function EmptyState({
  icon,
  title,
  description,
  action,
  headingLevel: Heading = "h2",
  bordered = true,
  className,
  children,
}: EmptyStateProps) {
  return (
    <div
      className={cn(
        "flex flex-col items-center justify-center px-6 py-12 text-center",
        bordered && "rounded-lg border border-dashed border-border-strong/50 bg-card",
        className,
      )}
    >
      {icon ? (
        <div
          aria-hidden="true"
          className="mb-3 flex size-10 items-center justify-center rounded-lg border border-border bg-subtle text-muted-foreground shadow-xs [&_svg]:size-5"
        >
          {icon}
        </div>
      ) : null}
      <Heading className="text-sm font-semibold text-foreground">{title}</Heading>
      {description ? (
        <p className="mt-1 max-w-md text-[13px] leading-5 text-muted-foreground">{description}</p>
      ) : null}
      {children}
      {action ? (
        <div className="mt-4 flex flex-wrap items-center justify-center gap-2">{action}</div>
      ) : null}
    </div>
  );
}
