import { ChevronRightIcon } from "lucide-react";
import Link from "next/link";
import type * as React from "react";

import { cn, focusRing } from "./cn";

export type Breadcrumb = { label: string; href?: string };

export type PageHeaderProps = {
  title: React.ReactNode;
  description?: React.ReactNode;
  /** Buttons on the right (wrap below the title on narrow screens). */
  actions?: React.ReactNode;
  /** Trail above the title; the last crumb is the current page. */
  breadcrumbs?: readonly Breadcrumb[];
  /** Extra content under the title row (tabs, badges, metadata). */
  children?: React.ReactNode;
  className?: string;
};

/** Page title block (the page's only `<h1>`). */
export function PageHeader({
  title,
  description,
  actions,
  breadcrumbs,
  children,
  className,
}: PageHeaderProps) {
  return (
    <header className={cn("mb-6 grid gap-3", className)}>
      {breadcrumbs && breadcrumbs.length > 0 ? (
        <nav aria-label="Breadcrumb">
          <ol className="flex flex-wrap items-center gap-1 text-[13px] text-muted-foreground">
            {breadcrumbs.map((crumb, index) => {
              const last = index === breadcrumbs.length - 1;
              return (
                <li key={`${crumb.label}-${index}`} className="flex items-center gap-1">
                  {crumb.href && !last ? (
                    <Link
                      href={crumb.href}
                      className={cn("rounded-sm hover:text-foreground hover:underline", focusRing)}
                    >
                      {crumb.label}
                    </Link>
                  ) : (
                    <span
                      aria-current={last ? "page" : undefined}
                      className={cn(last && "text-foreground")}
                    >
                      {crumb.label}
                    </span>
                  )}
                  {last ? null : (
                    <ChevronRightIcon aria-hidden="true" className="size-3.5 opacity-70" />
                  )}
                </li>
              );
            })}
          </ol>
        </nav>
      ) : null}
      <div className="flex flex-wrap items-start justify-between gap-x-6 gap-y-3">
        <div className="grid min-w-0 gap-1">
          <h1 className="text-xl leading-7 font-semibold tracking-tight text-foreground">
            {title}
          </h1>
          {description ? (
            <p className="max-w-3xl text-sm text-muted-foreground">{description}</p>
          ) : null}
        </div>
        {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
      </div>
      {children}
    </header>
  );
}
