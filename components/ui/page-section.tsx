import type { ReactNode } from "react";
import { cn } from "./cn";

/** A titled block of a page: a small heading, a one-line description, then the content. */
export function PageSection({
  id,
  title,
  description,
  className,
  children,
}: {
  /** Prefix of the heading's id (`<id>-heading`), which labels the section. */
  id: string;
  title: ReactNode;
  description?: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby={`${id}-heading`} className={cn("min-w-0", className)}>
      <div className="mb-2">
        <h2 id={`${id}-heading`} className="text-sm font-semibold">
          {title}
        </h2>
        {description ? <p className="text-xs text-muted-foreground">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}
