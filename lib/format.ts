/** Display formats shared by server and client components (UTC, so both render the same). */
const dateTime = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
  timeZone: "UTC",
});

export function formatDateTime(iso: string | Date): string {
  return `${dateTime.format(typeof iso === "string" ? new Date(iso) : iso)} UTC`;
}
