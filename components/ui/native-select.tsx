import type * as React from "react";

import { cn, controlBase } from "./cn";

/**
 * A plain <select> styled like our inputs, for GET filter forms in server components (the
 * Radix Select needs client state; a native one submits with the form as it is).
 */
export function NativeSelect({ className, ...props }: React.ComponentProps<"select">) {
  return <select className={cn(controlBase, "h-8 px-2 text-sm", className)} {...props} />;
}
