import type * as React from "react";

import { cn, controlBase } from "./cn";

export type TextareaProps = React.ComponentProps<"textarea">;

/** Multi-line text input; vertically resizable. */
export function Textarea({ className, rows = 3, ...props }: TextareaProps) {
  return (
    <textarea
      rows={rows}
      className={cn(controlBase, "min-h-16 resize-y px-2.5 py-1.5 text-sm leading-5", className)}
      {...props}
    />
  );
}
