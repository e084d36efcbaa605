import { cn } from "@/components/ui/cn";
import { TD, TH } from "@/components/ui/table";
import type { ModelOverview } from "@/lib/monitoring/overview";
import { formatCount, formatShareOf } from "./format";

/**
 * A model's client errors (4xx) and server errors (5xx) over a recent window, apart, in one
 * narrow table column for tables that list models (the Overview): "4xx 6.45 % (31)" over
 * "5xx 0 % (0)". A share of 1 % or more is coloured: amber for client errors, red for
 * server errors.
 */
export type ErrorShare = Pick<
  ModelOverview,
  "requests" | "clientErrors" | "clientErrorRate" | "serverErrors" | "serverErrorRate"
>;

export function ErrorShareHead({ window }: { window: string }) {
  return (
    <TH
      align="right"
      title="Client errors (4xx: the request was wrong) and server errors (5xx: serving failed), share and count"
    >
      Errors, {window}
    </TH>
  );
}

export function ErrorShareCell({ share, window }: { share?: ErrorShare; window: string }) {
  if (!share) {
    return (
      <TD numeric muted title={`No requests in the ${window}`}>
        —
      </TD>
    );
  }
  const of = `of ${formatCount(share.requests)} request${share.requests === 1 ? "" : "s"} in the ${window}`;
  return (
    <TD numeric className="font-mono text-xs leading-4">
      <div
        title={`Client errors (4xx) ${of}`}
        className={cn(share.clientErrorRate >= 0.01 && "text-warning-subtle-foreground")}
      >
        <span className="text-muted-foreground">4xx</span>{" "}
        {formatShareOf(share.clientErrors, share.requests)}
      </div>
      <div
        title={`Server errors (5xx) ${of}`}
        className={cn(share.serverErrorRate >= 0.01 && "text-destructive")}
      >
        <span className="text-muted-foreground">5xx</span>{" "}
        {formatShareOf(share.serverErrors, share.requests)}
      </div>
    </TD>
  );
}
