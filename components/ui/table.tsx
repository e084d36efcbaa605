import type * as React from "react";

import { cn } from "./cn";

export type TableProps = React.ComponentProps<"table"> & {
  /** Keep the header row visible while the table body scrolls. */
  stickyHeader?: boolean;
  /**
   * Max height of the scroll container (e.g. "24rem" or 480). Needed for `stickyHeader` to stick
   * inside the table; without it the container grows with its rows.
   * Name the table with `aria-label` / `aria-labelledby` (also names the scroll region) or a `<TableCaption>`.
   */
  maxHeight?: string | number;
  /** Classes for the scrolling wrapper (border, radius, etc.). */
  containerClassName?: string;
  /** Draw the default border + rounded corners around the table. Default true. */
  bordered?: boolean;
};

/**
 * Dense data table. Wraps `<table>` in a horizontally scrollable, focusable region so wide
 * tables stay usable on narrow screens. Give it an accessible name with `aria-label` or a `<TableCaption>`.
 */
export function Table({
  stickyHeader = false,
  maxHeight,
  containerClassName,
  bordered = true,
  className,
  ...props
}: TableProps) {
  const scrollable = maxHeight !== undefined;
  return (
    <div
      className={cn(
        "relative w-full min-w-0 overflow-auto bg-card focus-visible:outline-offset-0",
        bordered && "rounded-lg border border-border",
        containerClassName,
      )}
      style={scrollable ? { maxHeight } : undefined}
      // The wrapper scrolls whenever the table is wider (or taller) than it, so it must be
      // reachable by keyboard (axe: scrollable-region-focusable); it is named after the table.
      tabIndex={0}
      role={props["aria-label"] || props["aria-labelledby"] ? "region" : undefined}
      aria-label={props["aria-label"]}
      aria-labelledby={props["aria-labelledby"]}
    >
      <table
        data-sticky-header={stickyHeader || undefined}
        className={cn(
          "w-full border-separate border-spacing-0 text-left text-[13px] leading-5 text-foreground",
          className,
        )}
        {...props}
      />
    </div>
  );
}

/** Caption; pass `className="sr-only"` to name the table without showing the text. */
export function TableCaption({ className, ...props }: React.ComponentProps<"caption">) {
  return (
    <caption
      className={cn("px-3 py-2 text-left text-[13px] text-muted-foreground", className)}
      {...props}
    />
  );
}

export function THead({ className, ...props }: React.ComponentProps<"thead">) {
  return <thead className={cn(className)} {...props} />;
}

export function TBody({ className, ...props }: React.ComponentProps<"tbody">) {
  return <tbody className={cn(className)} {...props} />;
}

export function TFoot({ className, ...props }: React.ComponentProps<"tfoot">) {
  return <tfoot className={cn("bg-subtle font-medium", className)} {...props} />;
}

export type TRProps = React.ComponentProps<"tr"> & {
  /** Highlight as selected (also sets aria-selected). */
  selected?: boolean;
};

export function TR({ className, selected, ...props }: TRProps) {
  return (
    <tr
      aria-selected={selected || undefined}
      data-selected={selected || undefined}
      className={cn(
        "group/row transition-colors [tbody>&:hover]:bg-muted/50 data-selected:bg-accent-subtle/60",
        className,
      )}
      {...props}
    />
  );
}

type Align = "left" | "center" | "right";
const alignClass: Record<Align, string> = {
  left: "text-left",
  center: "text-center",
  right: "text-right",
};

export type THProps = React.ComponentProps<"th"> & { align?: Align };

export function TH({ className, align = "left", scope = "col", ...props }: THProps) {
  return (
    <th
      scope={scope}
      className={cn(
        "h-8 border-b border-border bg-subtle px-3 text-xs font-medium whitespace-nowrap text-muted-foreground",
        "in-data-sticky-header:sticky in-data-sticky-header:top-0 in-data-sticky-header:z-10",
        "first:pl-4 last:pr-4",
        alignClass[align],
        className,
      )}
      {...props}
    />
  );
}

/** The header of a row-actions column: no visible text, named for screen readers. */
export function ActionsTH() {
  return (
    <TH align="right">
      <span className="sr-only">Actions</span>
    </TH>
  );
}

export type TDProps = React.ComponentProps<"td"> & {
  align?: Align;
  /** Right-aligned tabular numbers. */
  numeric?: boolean;
  /** Monospace (ids, hashes, versions). */
  mono?: boolean;
  /** Muted secondary text. */
  muted?: boolean;
  /** Let long text wrap (cells don't wrap by default; the table scrolls horizontally instead). */
  wrap?: boolean;
};

export function TD({
  className,
  align,
  numeric = false,
  mono = false,
  muted = false,
  wrap = false,
  ...props
}: TDProps) {
  return (
    <td
      className={cn(
        "h-9 border-b border-border px-3 py-1.5 align-middle",
        "group-last/row:border-b-0 first:pl-4 last:pr-4",
        alignClass[align ?? (numeric ? "right" : "left")],
        wrap ? "min-w-48" : "whitespace-nowrap",
        numeric && "tabular-nums",
        mono && "font-mono text-xs",
        muted && "text-muted-foreground",
        className,
      )}
      {...props}
    />
  );
}

/** A full-width row for "no results" / loading messages inside TBody. */
export function TEmptyRow({
  colSpan,
  className,
  children,
}: {
  colSpan: number;
  className?: string;
  children: React.ReactNode;
}) {
  return (
    <tr>
      <td
        colSpan={colSpan}
        className={cn("px-4 py-8 text-center text-muted-foreground", className)}
      >
        {children}
      </td>
    </tr>
  );
}
