/**
 * What an audit entry changed, field by field: "role viewer → operator" for updates, the
 * recorded values for creations. Easier to scan in a table than two JSON blobs.
 */
type Json = Record<string, unknown>;

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export function ChangeList({ before, after }: { before: unknown; after: unknown }) {
  const b = (before && typeof before === "object" ? before : {}) as Json;
  const a = (after && typeof after === "object" ? after : {}) as Json;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  if (keys.length === 0) return <span className="text-muted-foreground">—</span>;
  const onlyAfter = before == null;
  const onlyBefore = after == null;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs">
      {keys.map((key) => {
        const changed = JSON.stringify(b[key]) !== JSON.stringify(a[key]);
        return (
          <div key={key} className="contents">
            <dt className="text-muted-foreground">{key}</dt>
            <dd className="min-w-0 truncate font-mono" title={`${show(b[key])} → ${show(a[key])}`}>
              {onlyAfter ? (
                show(a[key])
              ) : onlyBefore ? (
                show(b[key])
              ) : changed ? (
                <>
                  <span className="text-muted-foreground line-through decoration-muted-foreground/50">
                    {show(b[key])}
                  </span>
                  <span className="px-1 text-muted-foreground" aria-label="changed to">
                    →
                  </span>
                  <span className="font-medium text-foreground">{show(a[key])}</span>
                </>
              ) : (
                <span className="text-muted-foreground">{show(a[key])}</span>
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
