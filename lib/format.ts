/**
 * Display formats shared by server and client components. UTC, so server and browser render
 * the same text; compact like a log line ("2026-11-22 02:29:56"), with the zone in a tooltip.
 */
export function formatDateTime(iso: string | Date): string {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toISOString().slice(0, 19).replace("T", " ");
}

export function formatDateTimeLong(iso: string | Date): string {
  return `${formatDateTime(iso)} UTC`;
}
