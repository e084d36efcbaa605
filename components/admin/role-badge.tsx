import { Badge } from "@/components/ui/badge";

const variants = { admin: "accent", operator: "success", viewer: "neutral" } as const;

export function RoleBadge({ role }: { role: "viewer" | "operator" | "admin" }) {
  return <Badge variant={variants[role]}>{role}</Badge>;
}
