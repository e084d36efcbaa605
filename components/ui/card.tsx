import type * as React from "react";

import { cn } from "./cn";

/** Bordered surface. Compose with CardHeader / CardContent / CardFooter. */
export function Card({ className, ...props }: React.ComponentProps<"div">) {
  return (
    <div
      className={cn(
        "min-w-0 rounded-lg border border-border bg-card text-card-foreground shadow-xs",
        className,
      )}
      {...props}
    />
  );
}

/** Title row; put actions in `<CardActions>` inside it to align them right. */
export function CardHeader({ className, ...props }: React.ComponentProps<"div">) {
  return (
    <div
      className={cn("flex flex-wrap items-start gap-x-4 gap-y-2 px-4 pt-4 pb-3", className)}
      {...props}
    />
  );
}

export function CardHeading({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("grid min-w-0 flex-1 basis-60 gap-0.5", className)} {...props} />;
}

type HeadingLevel = "h2" | "h3" | "h4";

export function CardTitle({
  as: Comp = "h3",
  className,
  ...props
}: React.ComponentProps<"h3"> & { as?: HeadingLevel }) {
  return (
    <Comp className={cn("text-sm leading-5 font-semibold text-foreground", className)} {...props} />
  );
}

export function CardDescription({ className, ...props }: React.ComponentProps<"p">) {
  return <p className={cn("text-[13px] leading-5 text-muted-foreground", className)} {...props} />;
}

export function CardActions({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("ml-auto flex shrink-0 items-center gap-2", className)} {...props} />;
}

export function CardContent({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("px-4 pb-4", className)} {...props} />;
}

export function CardFooter({ className, ...props }: React.ComponentProps<"div">) {
  return (
    <div
      className={cn(
        "flex items-center gap-2 rounded-b-lg border-t border-border bg-subtle px-4 py-3",
        className,
      )}
      {...props}
    />
  );
}
