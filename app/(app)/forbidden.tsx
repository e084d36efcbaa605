import Link from "next/link";
import { ShieldAlertIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export default function Forbidden() {
  return (
    <EmptyState
      icon={<ShieldAlertIcon />}
      title="You don't have access to this page"
      description="Your role does not include this permission. Ask an administrator if you need it."
      action={
        <Button asChild variant="outline">
          <Link href="/">Back to overview</Link>
        </Button>
      }
    />
  );
}
