import Link from "next/link";
import { BellRingIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { countFiringAlerts } from "@/lib/alerts/alerts";
import { getPrisma } from "@/lib/db/client";

/**
 * "2 firing alerts", linking to the Alerts page (filtered to the model when given); nothing
 * when none fire. A server component that counts for itself, so a page adds one element.
 */
export async function FiringAlertsBadge({ model }: { model?: { id: string; name: string } }) {
  const count = await countFiringAlerts(getPrisma(), model?.id);
  if (count === 0) return null;
  const href = model ? `/alerts?model=${encodeURIComponent(model.name)}` : "/alerts";
  return (
    <Link href={href} className="inline-flex" data-testid="firing-alerts-badge">
      <Badge variant="destructive" className="h-6 px-2">
        <BellRingIcon aria-hidden />
        {count} firing {count === 1 ? "alert" : "alerts"}
      </Badge>
    </Link>
  );
}
