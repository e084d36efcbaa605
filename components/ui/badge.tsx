import { cva, type VariantProps } from "class-variance-authority";
import type * as React from "react";

import { cn } from "./cn";

export const badgeVariants = cva(
  "inline-flex h-5 shrink-0 items-center gap-1 rounded-md border px-1.5 text-xs leading-none font-medium whitespace-nowrap [&_svg]:size-3 [&_svg]:shrink-0",
  {
    variants: {
      variant: {
        neutral: "border-transparent bg-muted text-muted-foreground",
        accent: "border-transparent bg-accent-subtle text-accent-subtle-foreground",
        success: "border-transparent bg-success-subtle text-success-subtle-foreground",
        warning: "border-transparent bg-warning-subtle text-warning-subtle-foreground",
        destructive: "border-transparent bg-destructive-subtle text-destructive-subtle-foreground",
        outline: "border-border-strong/60 bg-transparent text-foreground",
      },
    },
    defaultVariants: { variant: "neutral" },
  },
);

const dotColours = {
  neutral: "bg-muted-foreground",
  accent: "bg-accent",
  success: "bg-success",
  warning: "bg-warning",
  destructive: "bg-destructive",
  outline: "bg-muted-foreground",
} as const;

export type BadgeVariant = NonNullable<VariantProps<typeof badgeVariants>["variant"]>;

export type BadgeProps = React.ComponentProps<"span"> &
  VariantProps<typeof badgeVariants> & {
    /** Leading status dot (e.g. for health states). */
    dot?: boolean;
  };

/** Small label for statuses, aliases ("production", "staging"), roles. Colour is never the only signal: keep the text meaningful. */
export function Badge({ className, variant, dot = false, children, ...props }: BadgeProps) {
  return (
    <span className={cn(badgeVariants({ variant }), className)} {...props}>
      {dot ? (
        <span
          aria-hidden="true"
          className={cn("size-1.5 rounded-full", dotColours[variant ?? "neutral"])}
        />
      ) : null}
      {children}
    </span>
  );
}
