import { firstParam, type SearchParams } from "../search-params";
import { NativeSelect } from "@/components/ui/native-select";
import Link from "next/link";
import { BoxesIcon } from "lucide-react";
import { AliasBadge } from "@/components/registry/alias-badge";
import { CreateModelDialog } from "@/components/registry/create-model-dialog";
import { ModelServingBadge } from "@/components/serving/alias-serving";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination, pageHref } from "@/components/ui/pagination";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { userCan } from "@/lib/auth/guard";
import { getPrisma } from "@/lib/db/client";
import { listModels, MODEL_TASKS, type ModelTask } from "@/lib/registry";
import { getAliasServing, type AliasServing } from "@/lib/serving/alias-serving";
import { requireUser } from "../current-user";

export const metadata = { title: "Models · ModelDeck" };

export default async function ModelsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const user = await requireUser("/models");
  const params = await searchParams;
  const page = Math.max(1, Number(firstParam(params.page)) || 1);
  const pageSize = 50;
  const taskParam = firstParam(params.task);
  const task = MODEL_TASKS.includes(taskParam as ModelTask) ? (taskParam as ModelTask) : undefined;
  const production = firstParam(params.production);
  const filter = {
    search: firstParam(params.search),
    task,
    tag: firstParam(params.tag),
    hasProduction: production === "yes" ? true : production === "no" ? false : undefined,
  };
  const db = getPrisma();
  const result = await listModels(db, { ...filter, page, pageSize });
  const servingByModel = new Map<string, AliasServing[]>();
  for (const a of await getAliasServing(db, { modelIds: result.models.map((m) => m.id) })) {
    servingByModel.set(a.model, [...(servingByModel.get(a.model) ?? []), a]);
  }
  const filtered = Object.values(filter).some((v) => v !== undefined);
  const pages = Math.max(1, Math.ceil(result.total / pageSize));
  const canCreate = userCan(user, "models:write");

  return (
    <>
      <PageHeader
        title="Models"
        description="Registered ONNX models, their versions and which version each alias serves."
        actions={
          canCreate ? <CreateModelDialog canRequireApproval={user.role === "admin"} /> : null
        }
      />
      {result.total === 0 && !filtered ? (
        <EmptyState
          bordered
          icon={<BoxesIcon />}
          title="No models registered yet"
          description={
            canCreate
              ? "Create a model, then upload its ONNX versions from the browser or the API (POST /api/v1/models/{name}/versions)."
              : "Models appear here once an operator registers them."
          }
        />
      ) : (
        <>
          <form
            method="get"
            aria-label="Filter models"
            className="mb-4 grid gap-3 rounded-lg border border-border bg-card p-3 sm:grid-cols-2 lg:grid-cols-[2fr_1fr_1fr_1fr_auto]"
          >
            <Field label="Search">
              <Input name="search" defaultValue={filter.search} placeholder="name or description" />
            </Field>
            <Field label="Task">
              <NativeSelect name="task" defaultValue={task ?? ""}>
                <option value="">Any task</option>
                {MODEL_TASKS.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="Tag">
              <Input name="tag" defaultValue={filter.tag} placeholder="e.g. tabular" />
            </Field>
            <Field label="Production">
              <NativeSelect name="production" defaultValue={production ?? ""}>
                <option value="">Any</option>
                <option value="yes">Has a production version</option>
                <option value="no">No production version</option>
              </NativeSelect>
            </Field>
            <div className="flex items-end gap-2">
              <Button type="submit" size="sm" variant="primary">
                Filter
              </Button>
              {filtered ? (
                <Button asChild size="sm" variant="ghost">
                  <Link href="/models">Clear</Link>
                </Button>
              ) : null}
            </div>
          </form>
          <Table aria-label="Models">
            <THead>
              <TR>
                <TH>Name</TH>
                <TH>Task</TH>
                <TH>Production</TH>
                <TH>Serving</TH>
                <TH>Aliases</TH>
                <TH align="right">Versions</TH>
                <TH>Tags</TH>
                <TH>Updated</TH>
              </TR>
            </THead>
            <TBody>
              {result.models.length === 0 ? (
                <TEmptyRow colSpan={8}>No models match these filters.</TEmptyRow>
              ) : (
                result.models.map((m) => (
                  <TR key={m.id} data-testid={`model-row-${m.name}`}>
                    <TD>
                      <Link
                        href={`/models/${encodeURIComponent(m.name)}`}
                        className="font-medium text-accent hover:underline"
                      >
                        {m.name}
                      </Link>
                      {m.description ? (
                        <div
                          className="max-w-80 truncate text-xs text-muted-foreground"
                          title={m.description}
                        >
                          {m.description}
                        </div>
                      ) : null}
                    </TD>
                    <TD className="text-muted-foreground">{m.task}</TD>
                    <TD>
                      {m.productionVersion ? (
                        <span className="font-mono text-sm">v{m.productionVersion}</span>
                      ) : (
                        <span className="text-muted-foreground">—</span>
                      )}
                      {m.pendingPromotionCount > 0 ? (
                        <Badge variant="warning" className="ml-2">
                          {m.pendingPromotionCount} pending
                        </Badge>
                      ) : null}
                    </TD>
                    <TD>
                      <ModelServingBadge
                        model={m.name}
                        aliases={servingByModel.get(m.name) ?? []}
                      />
                    </TD>
                    <TD>
                      <div className="flex flex-wrap gap-1">
                        {m.aliases
                          .filter((a) => a.name !== "production")
                          .map((a) => (
                            <AliasBadge key={a.name} name={a.name} version={a.version} />
                          ))}
                      </div>
                    </TD>
                    <TD align="right" className="tabular-nums">
                      {m.versionCount}
                    </TD>
                    <TD>
                      <div className="flex flex-wrap gap-1">
                        {m.tags.map((t) => (
                          <Badge key={t} variant="neutral">
                            {t}
                          </Badge>
                        ))}
                      </div>
                    </TD>
                    <TD className="text-muted-foreground">
                      <Time value={m.updatedAt} />
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
            itemsOnPage={result.models.length}
            noun="models"
            prevHref={page > 1 ? pageHref("/models", params, page - 1) : null}
            nextHref={page < pages ? pageHref("/models", params, page + 1) : null}
          />
        </>
      )}
    </>
  );
}
