import { cva } from "class-variance-authority";
import { CircleAlertIcon, CircleCheckIcon, InfoIcon, TriangleAlertIcon } from "lucide-react";
import type * as React from "react";

import { cn } from "./cn";

const alertVariants = cva(
  "flex gap-2.5 rounded-lg border px-3.5 py-3 text-[13px] leading-5 [&>svg]:mt-0.5 [&>svg]:size-4 [&>svg]:shrink-0",
  {
    variants: {
      variant: {
        info: "border-accent/25 bg-accent-subtle text-accent-subtle-foreground [&>svg]:text-accent",
        success:
          "border-success/25 bg-success-subtle text-success-subtle-foreground [&>svg]:text-success",
        warning:
          "border-warning/30 bg-warning-subtle text-warning-subtle-foreground [&>svg]:text-warning",
        error:
          "border-destructive/25 bg-destructive-subtle text-destructive-subtle-foreground [&>svg]:text-destructive",
      },
    },
    defaultVariants: { variant: "info" },
  },
);

const icons = {
  info: InfoIcon,
  success: CircleCheckIcon,
  warning: TriangleAlertIcon,
  error: CircleAlertIcon,
} as const;

export type AlertVariant = keyof typeof icons;

export type AlertProps = Omit<React.ComponentProps<"div">, "title"> & {
  variant?: AlertVariant;
  title?: React.ReactNode;
  /** Right-aligned action (e.g. a small Button or link). */
  action?: React.ReactNode;
  /** Replace the default icon; `null` hides it. */
  icon?: React.ReactNode;
};

/**
 * Inline callout. Static callouts use no live region; pass `role="alert"` (errors) or
 * `role="status"` when the message appears in response to an action so it gets announced.
 */
export function Alert({
  variant = "info",
  title,
  action,
  icon,
  className,
  children,
  ...props
}: AlertProps) {
  const Icon = icons[variant];
  return (
    <div className={cn(alertVariants({ variant }), className)} {...props}>
      {icon === undefined ? <Icon aria-hidden="true" /> : icon}
      <div className="grid min-w-0 flex-1 gap-0.5">
        {title ? <p className="font-semibold">{title}</p> : null}
        {children ? <div className="[&_a]:font-medium [&_a]:underline">{children}</div> : null}
      </div>
      {action ? <div className="-my-0.5 shrink-0 self-center">{action}</div> : null}
    </div>
  );
}
