import { Badge } from "@/components/ui/badge";
import { PageHeader } from "@/components/ui/page-header";
import { openApiDocument } from "@/lib/api/openapi";
import { requireUser } from "../../current-user";

export const metadata = { title: "API docs · ModelDeck" };

type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    schema?: unknown;
    description?: string;
  }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
};

const methodVariant = {
  get: "accent",
  post: "success",
  put: "warning",
  patch: "warning",
  delete: "destructive",
} as const;

function schemaType(schema: unknown): string {
  const s = schema as { type?: string | string[]; enum?: unknown[]; format?: string } | undefined;
  if (!s) return "";
  if (s.enum) return s.enum.map(String).join(" | ");
  const t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "");
  return s.format ? `${t} (${s.format})` : t;
}

/** A readable rendering of /api/v1/openapi.json, grouped by tag. */
export default async function ApiDocsPage() {
  await requireUser("/docs/api");
  const doc = openApiDocument();
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, op]) => ({ path, method, op })),
  );
  const tags = [...new Set(operations.flatMap((o) => o.op.tags ?? ["Other"]))];

  return (
    <>
      <PageHeader
        title="API docs"
        description={
          <>
            The management API under <code>/api/v1</code>. Authenticate with{" "}
            <code>Authorization: Bearer &lt;token&gt;</code>. Machine-readable:{" "}
            <a className="text-accent hover:underline" href="/api/v1/openapi.json">
              openapi.json
            </a>
            .
          </>
        }
      />
      <div className="space-y-8">
        {tags.map((tag) => (
          <section key={tag} aria-labelledby={`tag-${tag}`}>
            <h2 id={`tag-${tag}`} className="mb-2 text-sm font-semibold">
              {tag}
            </h2>
            <div className="divide-y divide-border rounded-lg border border-border bg-card">
              {operations
                .filter((o) => (o.op.tags ?? ["Other"]).includes(tag))
                .map(({ path, method, op }) => {
                  const body = op.requestBody?.content?.["application/json"]?.schema;
                  return (
                    <details key={`${method} ${path}`} className="group px-4 py-2.5">
                      <summary className="flex cursor-pointer items-center gap-3 text-sm">
                        <Badge
                          variant={methodVariant[method as keyof typeof methodVariant] ?? "neutral"}
                          className="w-16 justify-center uppercase"
                        >
                          {method}
                        </Badge>
                        <code className="font-mono text-[13px]">{path}</code>
                        <span className="truncate text-muted-foreground">{op.summary}</span>
                      </summary>
                      <div className="mt-3 space-y-3 pb-2 pl-[4.75rem] text-sm">
                        {op.description ? (
                          <p className="whitespace-pre-line text-muted-foreground">
                            {op.description}
                          </p>
                        ) : null}
                        {op.parameters?.length ? (
                          <div>
                            <h3 className="mb-1 text-xs font-semibold uppercase text-muted-foreground">
                              Parameters
                            </h3>
                            <ul className="space-y-0.5">
                              {op.parameters.map((p) => (
                                <li key={`${p.in}-${p.name}`}>
                                  <code className="font-mono text-xs">{p.name}</code>{" "}
                                  <span className="text-xs text-muted-foreground">
                                    in {p.in}
                                    {p.required ? ", required" : ""} · {schemaType(p.schema)}
                                  </span>
                                </li>
                              ))}
                            </ul>
                          </div>
                        ) : null}
                        {body ? (
                          <div>
                            <h3 className="mb-1 text-xs font-semibold uppercase text-muted-foreground">
                              Request body (JSON)
                            </h3>
                            <pre className="max-h-72 overflow-auto rounded border border-border bg-muted p-2 text-xs">
                              {JSON.stringify(body, null, 2)}
                            </pre>
                          </div>
                        ) : null}
                        <div>
                          <h3 className="mb-1 text-xs font-semibold uppercase text-muted-foreground">
                            Responses
                          </h3>
                          <ul className="space-y-0.5">
                            {Object.entries(op.responses ?? {}).map(([code, r]) => (
                              <li key={code}>
                                <code className="font-mono text-xs">{code}</code>{" "}
                                <span className="text-muted-foreground">{r.description}</span>
                              </li>
                            ))}
                          </ul>
                        </div>
                      </div>
                    </details>
                  );
                })}
            </div>
          </section>
        ))}
      </div>
    </>
  );
}
