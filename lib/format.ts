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

const byteUnits = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB" (binary multiples, as file managers show sizes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${byteUnits[unit]}`;
}
