import { Slot, Slottable } from "@radix-ui/react-slot";
import { cva, type VariantProps } from "class-variance-authority";
import type * as React from "react";

import { cn, focusRing } from "./cn";
import { Spinner } from "./spinner";

export const buttonVariants = cva(
  [
    "inline-flex shrink-0 items-center justify-center gap-1.5 rounded-md border text-sm font-medium whitespace-nowrap select-none",
    "transition-[color,background-color,border-color,box-shadow]",
    "disabled:pointer-events-none disabled:opacity-50 aria-disabled:pointer-events-none aria-disabled:opacity-50",
    "[&_svg]:pointer-events-none [&_svg]:shrink-0 [&_svg:not([class*='size-'])]:size-4",
    focusRing,
  ],
  {
    variants: {
      variant: {
        primary:
          "border-transparent bg-accent text-accent-foreground shadow-xs hover:bg-accent-hover",
        secondary: "border-transparent bg-muted text-foreground hover:bg-border",
        outline:
          "border-input bg-card text-foreground shadow-xs hover:border-border-strong hover:bg-muted",
        ghost: "border-transparent bg-transparent text-foreground hover:bg-muted",
        destructive:
          "border-transparent bg-destructive text-destructive-foreground shadow-xs hover:bg-destructive-hover focus-visible:outline-destructive",
      },
      size: {
        sm: "h-7 px-2.5 text-[13px]",
        md: "h-8 px-3",
        icon: "size-8 p-0",
      },
    },
    defaultVariants: { variant: "secondary", size: "md" },
  },
);

export type ButtonProps = React.ComponentProps<"button"> &
  VariantProps<typeof buttonVariants> & {
    /** Render the single child element (e.g. a `<Link>`) with button styles instead of a `<button>`. */
    asChild?: boolean;
    /** Shows a spinner, sets aria-busy and disables the button. */
    loading?: boolean;
  };

/**
 * Button. Server-component safe (no client hooks), so `<Button asChild><Link href=…>` works anywhere.
 * Icon-only buttons (`size="icon"`) must get an `aria-label`.
 */
export function Button({
  className,
  variant,
  size,
  asChild = false,
  loading = false,
  disabled,
  type,
  children,
  ...props
}: ButtonProps) {
  const classes = cn(buttonVariants({ variant, size }), className);
  const spinner = loading ? <Spinner size={size === "sm" ? "sm" : "md"} label={null} /> : null;

  if (asChild) {
    return (
      <Slot
        className={classes}
        aria-busy={loading || undefined}
        aria-disabled={disabled || loading || undefined}
        {...(props as React.HTMLAttributes<HTMLElement>)}
      >
        <Slottable child={children}>
          {(inner) => (
            <>
              {spinner}
              {inner}
            </>
          )}
        </Slottable>
      </Slot>
    );
  }

  return (
    <button
      type={type ?? "button"}
      className={classes}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      {...props}
    >
      {loading && size === "icon" ? (
        spinner
      ) : (
        <>
          {spinner}
          {children}
        </>
      )}
    </button>
  );
}
