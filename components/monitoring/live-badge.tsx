import { cn } from "@/components/ui/cn";
import type { LiveStatus } from "./use-live-events";

const TEXT: Record<LiveStatus, string> = {
  live: "Live",
  connecting: "Connecting…",
  offline: "Live updates off",
};

/** Whether the page is following /api/v1/events: a calm dot, green when live. */
export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span
      role="status"
      data-testid="live-status"
      data-status={status}
      title={
        status === "live"
          ? "New traffic updates the charts within seconds"
          : status === "connecting"
            ? "Connecting to live updates"
            : "Live updates are not available; reload the page to retry"
      }
      className="inline-flex items-center gap-1.5 text-xs text-muted-foreground"
    >
      <span
        aria-hidden
        className={cn(
          "size-1.5 rounded-full",
          status === "live"
            ? "bg-success"
            : status === "connecting"
              ? "bg-warning"
              : "bg-muted-foreground",
        )}
      />
      {TEXT[status]}
    </span>
  );
}
