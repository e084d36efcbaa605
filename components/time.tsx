import { formatDateTime, formatDateTimeLong } from "@/lib/format";

/** A timestamp in tables: compact text, machine-readable attribute, full form on hover. */
export function Time({ value, className }: { value: string | Date; className?: string }) {
  const iso = typeof value === "string" ? value : value.toISOString();
  return (
    <time dateTime={iso} title={formatDateTimeLong(iso)} className={className}>
      {formatDateTime(iso)}
    </time>
  );
}
