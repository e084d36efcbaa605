import Link from "next/link";
import { BellRingIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";

/** "2 firing" linking to the Alerts page; nothing when none fire (calm by default). */
export function FiringAlertsBadge({ count, model }: { count: number; model?: string }) {
  if (count === 0) return null;
  const href = model ? `/alerts?model=${encodeURIComponent(model)}` : "/alerts";
  return (
    <Link href={href} className="inline-flex" data-testid="firing-alerts-badge">
      <Badge variant="destructive">
        <BellRingIcon aria-hidden />
        {count} firing {count === 1 ? "alert" : "alerts"}
      </Badge>
    </Link>
  );
}
