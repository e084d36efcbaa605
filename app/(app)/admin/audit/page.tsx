import { firstParam, type SearchParams } from "../../search-params";
import { NativeSelect } from "@/components/ui/native-select";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination, pageHref } from "@/components/ui/pagination";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { auditFacets, listAuditEntries } from "@/lib/audit";
import { getPrisma } from "@/lib/db/client";
import { ChangeList } from "@/components/admin/change-list";
import { Time } from "@/components/time";
import { requireScope } from "../../current-user";

export const metadata = { title: "Audit log · ModelDeck" };

function parseDate(value: string | undefined, endOfDay = false): Date | undefined {
  if (!value) return undefined;
  const d = new Date(
    value.length === 10 ? `${value}T${endOfDay ? "23:59:59.999" : "00:00:00"}Z` : value,
  );
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requireScope("audit:read", "/admin/audit");
  const params = await searchParams;
  const page = Math.max(1, Number(firstParam(params.page)) || 1);
  const pageSize = 50;
  const db = getPrisma();
  const filter = {
    actor: firstParam(params.actor),
    action: firstParam(params.action),
    resourceType: firstParam(params.resourceType),
    from: parseDate(firstParam(params.from)),
    to: parseDate(firstParam(params.to), true),
  };
  const [result, facets] = await Promise.all([
    listAuditEntries(db, filter, { page, pageSize }),
    auditFacets(db),
  ]);
  const pages = Math.max(1, Math.ceil(result.total / pageSize));

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, who made it, and what it changed. Entries are written in the same transaction as the change."
      />
      <form
        method="get"
        className="mb-4 grid gap-3 rounded-lg border border-border bg-card p-3 sm:grid-cols-2 lg:grid-cols-6"
        aria-label="Filter audit entries"
      >
        <Field label="Actor" className="lg:col-span-2">
          <Input name="actor" defaultValue={filter.actor} placeholder="email or token name" />
        </Field>
        <Field label="Action">
          <NativeSelect name="action" defaultValue={filter.action ?? ""}>
            <option value="">All actions</option>
            {facets.actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </NativeSelect>
        </Field>
        <Field label="Resource">
          <NativeSelect name="resourceType" defaultValue={filter.resourceType ?? ""}>
            <option value="">All resources</option>
            {facets.resourceTypes.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </NativeSelect>
        </Field>
        <Field label="From">
          <Input name="from" type="date" defaultValue={firstParam(params.from)} />
        </Field>
        <Field label="To">
          <Input name="to" type="date" defaultValue={firstParam(params.to)} />
        </Field>
        <div className="flex items-end gap-2 sm:col-span-2 lg:col-span-6">
          <Button type="submit" size="sm" variant="primary">
            Apply filters
          </Button>
          <Button asChild size="sm" variant="ghost">
            <a href="/admin/audit">Clear</a>
          </Button>
        </div>
      </form>
      <Table aria-label="Audit entries">
        <THead>
          <TR>
            <TH>Time</TH>
            <TH>Actor</TH>
            <TH>Action</TH>
            <TH>Resource</TH>
            <TH>Details</TH>
          </TR>
        </THead>
        <TBody>
          {result.entries.length === 0 ? (
            <TEmptyRow colSpan={5}>No entries match these filters.</TEmptyRow>
          ) : (
            result.entries.map((e) => (
              <TR key={e.id} className="align-top">
                <TD className="text-muted-foreground">
                  <Time value={e.at} />
                </TD>
                <TD>
                  <div className="font-medium">{e.actorLabel}</div>
                  <div className="text-xs text-muted-foreground">
                    {e.actorType}
                    {e.ipAddress ? ` · ${e.ipAddress}` : ""}
                  </div>
                </TD>
                <TD>
                  <code className="rounded bg-muted px-1.5 py-0.5 text-xs">{e.action}</code>
                </TD>
                <TD>
                  <div>{e.resourceType}</div>
                  {e.resourceId ? (
                    <div
                      className="max-w-56 truncate font-mono text-xs text-muted-foreground"
                      title={e.resourceId}
                    >
                      {e.resourceId}
                    </div>
                  ) : null}
                </TD>
                <TD className="min-w-72 max-w-md" wrap>
                  <ChangeList before={e.before} after={e.after} />
                </TD>
              </TR>
            ))
          )}
        </TBody>
      </Table>
      <Pagination
        className="mt-3"
        page={page}
        pageSize={pageSize}
        total={result.total}
        itemsOnPage={result.entries.length}
        noun="entries"
        prevHref={page > 1 ? pageHref("/admin/audit", params, page - 1) : null}
        nextHref={page < pages ? pageHref("/admin/audit", params, page + 1) : null}
      />
    </>
  );
}
