import type * as React from "react";

import { cn, controlBase } from "./cn";

export type InputProps = React.ComponentProps<"input">;

/** Single-line text input. Pair with `<Field>` for a label, hint and error wiring. */
export function Input({ className, type = "text", ...props }: InputProps) {
  return (
    <input
      type={type}
      className={cn(
        controlBase,
        "h-8 min-w-0 px-2.5 py-1 text-sm",
        "file:mr-2 file:border-0 file:bg-transparent file:text-sm file:font-medium file:text-foreground",
        className,
      )}
      {...props}
    />
  );
}
