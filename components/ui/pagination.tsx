import { ChevronLeftIcon, ChevronRightIcon } from "lucide-react";
import Link from "next/link";
import type * as React from "react";

import { buttonVariants } from "./button";
import { cn } from "./cn";

export type PaginationProps = {
  /** 1-based page number. */
  page: number;
  pageSize: number;
  /** Total number of items, when known. */
  total?: number;
  /** Items on this page; needed for the range when `total` is unknown (cursor pagination). */
  itemsOnPage?: number;
  /** Link to the previous page; `null`/omitted disables "Previous". */
  prevHref?: string | null;
  /** Link to the next page; `null`/omitted disables "Next". */
  nextHref?: string | null;
  /** Plural noun for the summary: "Showing 1–25 of 312 versions". Default "results". */
  noun?: string;
  className?: string;
};

const numberFormat = new Intl.NumberFormat("en-US");

/** Builds `?page=N` hrefs, keeping the other query params. Page 1 drops the param. */
export function pageHref(
  pathname: string,
  params: Record<string, string | string[] | undefined>,
  page: number,
  paramName = "page",
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (key === paramName || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, item);
  }
  if (page > 1) query.set(paramName, String(page));
  const search = query.toString();
  return search ? `${pathname}?${search}` : pathname;
}

/** Previous / next links with a "Showing X–Y of Z" summary. Plain links: works in server components. */
export function Pagination({
  page,
  pageSize,
  total,
  itemsOnPage,
  prevHref,
  nextHref,
  noun = "results",
  className,
}: PaginationProps) {
  const first = (page - 1) * pageSize + 1;
  const count =
    itemsOnPage ?? (total !== undefined ? Math.min(pageSize, total - first + 1) : pageSize);
  const last = first + Math.max(count, 0) - 1;

  let summary: React.ReactNode;
  if (total === 0 || count <= 0) {
    summary = `No ${noun}`;
  } else {
    summary = (
      <>
        Showing <span className="font-medium text-foreground">{numberFormat.format(first)}</span>–
        <span className="font-medium text-foreground">{numberFormat.format(last)}</span>
        {total !== undefined ? (
          <>
            {" "}
            of <span className="font-medium text-foreground">{numberFormat.format(total)}</span>
          </>
        ) : null}{" "}
        {noun}
      </>
    );
  }

  const linkClass = cn(buttonVariants({ variant: "outline", size: "sm" }), "gap-1");
  const disabledClass = cn(linkClass, "pointer-events-none opacity-50 shadow-none");

  return (
    <nav
      aria-label="Pagination"
      className={cn(
        "flex flex-wrap items-center justify-between gap-x-4 gap-y-2 text-[13px] text-muted-foreground",
        className,
      )}
    >
      <p aria-live="polite">{summary}</p>
      <div className="flex items-center gap-2">
        {prevHref ? (
          <Link href={prevHref} rel="prev" className={linkClass}>
            <ChevronLeftIcon aria-hidden="true" className="size-4" />
            Previous
          </Link>
        ) : (
          <span aria-disabled="true" className={disabledClass}>
            <ChevronLeftIcon aria-hidden="true" className="size-4" />
            Previous
          </span>
        )}
        {nextHref ? (
          <Link href={nextHref} rel="next" className={linkClass}>
            Next
            <ChevronRightIcon aria-hidden="true" className="size-4" />
          </Link>
        ) : (
          <span aria-disabled="true" className={disabledClass}>
            Next
            <ChevronRightIcon aria-hidden="true" className="size-4" />
          </span>
        )}
      </div>
    </nav>
  );
}
