import { Badge, type BadgeVariant } from "@/components/ui/badge";
import type { AlertSeverity, AlertState } from "@/lib/alerts/definitions";

const STATE_VARIANT: Record<AlertState, BadgeVariant> = {
  firing: "destructive",
  pending: "warning",
  resolved: "success",
  inactive: "neutral",
};
const STATE_LABEL: Record<AlertState, string> = {
  firing: "Firing",
  pending: "Pending",
  resolved: "Resolved",
  inactive: "OK",
};
const SEVERITY_VARIANT: Record<AlertSeverity, BadgeVariant> = {
  critical: "destructive",
  warning: "warning",
  info: "accent",
};

/** An alert's (or rule's) state; `inactive` reads "OK" on a rule, "Cleared" on an episode. */
export function AlertStateBadge({
  state,
  episode = false,
}: {
  state: AlertState;
  /** An episode that went pending and cleared before firing. */
  episode?: boolean;
}) {
  return (
    <Badge variant={STATE_VARIANT[state]} dot data-testid="alert-state">
      {episode && state === "inactive" ? "Cleared" : STATE_LABEL[state]}
    </Badge>
  );
}

export function SeverityBadge({ severity }: { severity: AlertSeverity }) {
  return (
    <Badge variant={SEVERITY_VARIANT[severity]} className="capitalize">
      {severity}
    </Badge>
  );
}
