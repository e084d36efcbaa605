import { Badge } from "@/components/ui/badge";

/** An alias name as a badge: production stands out, staging second, free-form aliases quiet. */
export function AliasBadge({ name, version }: { name: string; version?: number }) {
  const variant = name === "production" ? "success" : name === "staging" ? "warning" : "outline";
  return (
    <Badge variant={variant} data-testid={`alias-${name}`}>
      {name}
      {version !== undefined ? <span className="ml-1 font-mono opacity-80">v{version}</span> : null}
    </Badge>
  );
}
