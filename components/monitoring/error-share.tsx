import { cn } from "@/components/ui/cn";
import { TD, TH } from "@/components/ui/table";
import type { ModelOverview } from "@/lib/monitoring/overview";
import { formatCount, formatShareOf } from "./format";

/**
 * Client errors (4xx) and server errors (5xx) of a model over a recent window, as two table
 * columns ("6.45 % (31)"), for tables that list models (the Overview). A share of 1 % or more
 * is coloured: amber for client errors, red for server errors.
 */
export type ErrorShare = Pick<
  ModelOverview,
  "requests" | "clientErrors" | "clientErrorRate" | "serverErrors" | "serverErrorRate"
>;

export function ErrorShareHeads({ window }: { window: string }) {
  return (
    <>
      <TH align="right" title="Answers with status 400–499: the request was wrong">
        Client errors <span className="font-normal">(4xx, {window})</span>
      </TH>
      <TH align="right" title="Answers with status 500–599: serving failed">
        Server errors <span className="font-normal">(5xx, {window})</span>
      </TH>
    </>
  );
}

export function ErrorShareCells({ share, window }: { share?: ErrorShare; window: string }) {
  const of = share
    ? `of ${formatCount(share.requests)} request${share.requests === 1 ? "" : "s"} in the ${window}`
    : `no requests in the ${window}`;
  return (
    <>
      <TD
        numeric
        title={of}
        className={cn(
          "font-mono",
          !share && "text-muted-foreground",
          share && share.clientErrorRate >= 0.01 && "text-warning-subtle-foreground",
        )}
      >
        {formatShareOf(share?.clientErrors, share?.requests)}
      </TD>
      <TD
        numeric
        title={of}
        className={cn(
          "font-mono",
          !share && "text-muted-foreground",
          share && share.serverErrorRate >= 0.01 && "text-destructive",
        )}
      >
        {formatShareOf(share?.serverErrors, share?.requests)}
      </TD>
    </>
  );
}
