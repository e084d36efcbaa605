import * as LabelPrimitive from "@radix-ui/react-label";
import type * as React from "react";

import { cn } from "./cn";

export type LabelProps = React.ComponentProps<typeof LabelPrimitive.Root>;

/** Form label (Radix Label: clicking focuses the control; no text selection on double click). */
export function Label({ className, ...props }: LabelProps) {
  return (
    <LabelPrimitive.Root
      className={cn(
        "text-[13px] leading-5 font-medium text-foreground select-none",
        "peer-disabled:cursor-not-allowed peer-disabled:opacity-60",
        className,
      )}
      {...props}
    />
  );
}
