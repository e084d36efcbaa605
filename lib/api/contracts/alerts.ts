import { ackInputSchema } from "../../alerts/alerts";
import {
  ALERT_COMPARISONS,
  ALERT_METRICS,
  ALERT_SEVERITIES,
  ALERT_STATES,
  METRIC_DEFINITIONS,
} from "../../alerts/definitions";
import { alertRuleInputSchema, alertRuleUpdateSchema } from "../../alerts/rules";
import { silenceInputSchema } from "../../alerts/silences";
import { defineContract, registry, z } from "../contract";

/** Alert rules under /api/v1/alert-rules, alerts under /api/v1/alerts, silences. */

const Actor = z.object({ type: z.string(), id: z.string().nullable(), label: z.string() });
const Id = z.string().min(1).max(63).openapi({ example: "0b9e4c7e-4f7a-4f8e-9f57-3c1a0c2d9b11" });
const State = z.enum(ALERT_STATES);
const Severity = z.enum(ALERT_SEVERITIES);
const Metric = z.enum(ALERT_METRICS);
const Comparison = z.enum(ALERT_COMPARISONS);

const METRICS_TEXT =
  "Metrics and their units: " +
  ALERT_METRICS.map(
    (m) => `\`${m}\` (${METRIC_DEFINITIONS[m].unit}): ${METRIC_DEFINITIONS[m].hint}`,
  ).join(" ") +
  " The rule is judged every `MODELDECK_ALERT_EVALUATION_SECONDS` (default 15): a breach starts `pending`, `firing` once it held `forSeconds`; a firing alert resolves once the condition has been clear for `keepFiringForSeconds`. No data (no requests or feedback in the window, an alias pointing nowhere) holds the state: it is neither a breach nor a recovery.";

const AlertRule = registry.register(
  "AlertRule",
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    model: z.object({ id: z.string(), name: z.string(), task: z.string() }),
    version: z.number().int().nullable(),
    alias: z.string().nullable(),
    scope: z.string().openapi({ example: "alias production" }),
    metric: Metric,
    unit: z.string().openapi({ example: "ms" }),
    windowSeconds: z.number().int(),
    comparison: Comparison,
    threshold: z.number(),
    forSeconds: z.number().int(),
    keepFiringForSeconds: z.number().int(),
    severity: Severity,
    enabled: z.boolean(),
    state: State.openapi({ description: "The latest alert's state (inactive when none)." }),
    openAlertId: z.string().nullable(),
    lastEvaluatedAt: z.string().nullable(),
    lastValue: z
      .number()
      .nullable()
      .openapi({ description: "Null: no data at the last evaluation." }),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: Actor,
    updatedBy: Actor,
  }),
);

const Alert = registry.register(
  "Alert",
  z.object({
    id: z.string(),
    state: State,
    severity: Severity,
    rule: z.object({
      id: z.string(),
      name: z.string(),
      metric: Metric,
      comparison: Comparison,
      scope: z.string(),
      unit: z.string(),
    }),
    model: z.object({ id: z.string(), name: z.string() }),
    version: z.number().int().nullable(),
    value: z.number().nullable(),
    threshold: z.number(),
    startedAt: z.string(),
    firingSince: z.string().nullable(),
    endedAt: z.string().nullable(),
    lastEvaluatedAt: z.string(),
    acknowledged: z
      .object({ at: z.string(), by: z.string(), comment: z.string().nullable() })
      .nullable(),
    silencedBy: z
      .object({ id: z.string(), endsAt: z.string(), comment: z.string() })
      .nullable()
      .openapi({ description: "An active silence matching it: its webhooks are muted." }),
  }),
);

const AlertTransition = registry.register(
  "AlertTransition",
  z.object({
    id: z.string(),
    alertId: z.string(),
    ruleId: z.string(),
    ruleName: z.string(),
    model: z.string(),
    severity: Severity,
    from: State.nullable(),
    to: State,
    at: z.string(),
    value: z.number().nullable(),
    threshold: z.number(),
    reason: z.string(),
    silenced: z.boolean(),
  }),
);

const Silence = registry.register(
  "AlertSilence",
  z.object({
    id: z.string(),
    rule: z.object({ id: z.string(), name: z.string() }).nullable(),
    model: z.object({ id: z.string(), name: z.string() }).nullable(),
    severity: Severity.nullable(),
    comment: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    status: z.enum(["active", "expired"]),
    expiredAt: z.string().nullable(),
    expiredBy: z.string().nullable(),
    createdAt: z.string(),
    createdBy: Actor,
  }),
);

const idParams = z.object({ id: Id });

export const listAlertRules = defineContract({
  method: "get",
  path: "/api/v1/alert-rules",
  operationId: "listAlertRules",
  summary: "List alert rules with their current state and last value",
  tags: ["Alerts"],
  scope: "alerts:read",
  query: z.object({ model: z.string().max(63).optional() }).strict(),
  response: z.object({ rules: z.array(AlertRule) }),
});

export const createAlertRule = defineContract({
  method: "post",
  path: "/api/v1/alert-rules",
  operationId: "createAlertRule",
  summary: "Create an alert rule",
  description:
    "Scope: a `model`, optionally one `version` number or one `alias` (resolved at every evaluation). `live_accuracy` needs a classification model, `live_mae` a regression one; `failed_job_runs` cannot be version-scoped; `windowSeconds` is at least 60. Invalid definitions are a 400 whose `details.fields` names each field. " +
    METRICS_TEXT,
  tags: ["Alerts"],
  scope: "alerts:write",
  successStatus: 201,
  body: alertRuleInputSchema,
  response: z.object({ rule: AlertRule }),
});

export const getAlertRule = defineContract({
  method: "get",
  path: "/api/v1/alert-rules/{id}",
  operationId: "getAlertRule",
  summary: "An alert rule",
  tags: ["Alerts"],
  scope: "alerts:read",
  params: idParams,
  extraErrors: { 404: "No such rule." },
  response: z.object({ rule: AlertRule }),
});

export const updateAlertRule = defineContract({
  method: "patch",
  path: "/api/v1/alert-rules/{id}",
  operationId: "updateAlertRule",
  summary: "Edit an alert rule (fields left out keep their value)",
  description:
    "The next evaluation uses the new definition; an open alert continues under it (raising a threshold above the value resolves it). Setting `version` clears `alias` and the other way round.",
  tags: ["Alerts"],
  scope: "alerts:write",
  params: idParams,
  body: alertRuleUpdateSchema,
  extraErrors: { 404: "No such rule." },
  response: z.object({ rule: AlertRule }),
});

export const deleteAlertRule = defineContract({
  method: "delete",
  path: "/api/v1/alert-rules/{id}",
  operationId: "deleteAlertRule",
  summary: "Delete an alert rule with its alerts and history",
  tags: ["Alerts"],
  scope: "alerts:write",
  params: idParams,
  extraErrors: { 404: "No such rule." },
  response: z.object({ deleted: z.literal(true), id: z.string() }),
});

export const listAlerts = defineContract({
  method: "get",
  path: "/api/v1/alerts",
  operationId: "listAlerts",
  summary: "Alerts (firing and pending first, then recently closed) and the latest transitions",
  tags: ["Alerts"],
  scope: "alerts:read",
  query: z
    .object({
      model: z.string().max(63).optional(),
      state: State.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    })
    .strict(),
  extraErrors: { 404: "No such model." },
  response: z.object({ alerts: z.array(Alert), transitions: z.array(AlertTransition) }),
});

export const acknowledgeAlert = defineContract({
  method: "post",
  path: "/api/v1/alerts/{id}/ack",
  operationId: "acknowledgeAlert",
  summary: "Acknowledge a pending or firing alert (author and comment recorded)",
  tags: ["Alerts"],
  scope: "alerts:write",
  params: idParams,
  body: ackInputSchema,
  extraErrors: { 404: "No such alert.", 409: "The alert is closed or already acknowledged." },
  response: z.object({ alert: Alert }),
});

export const listSilences = defineContract({
  method: "get",
  path: "/api/v1/silences",
  operationId: "listSilences",
  summary: "Silences: active ones first, then the most recently ended",
  tags: ["Alerts"],
  scope: "alerts:read",
  query: z.object({ status: z.enum(["active", "expired"]).optional() }).strict(),
  response: z.object({ silences: z.array(Silence) }),
});

export const createSilence = defineContract({
  method: "post",
  path: "/api/v1/silences",
  operationId: "createSilence",
  summary: "Silence the notifications of matching alerts until a time",
  description:
    "Matchers (`ruleId`, `model`, `severity`): at least one; each one set must equal the alert's. A comment and an expiry (`endsAt`, in the future, at most 90 days away) are required. Silenced alerts still change state and show on the Alerts page; only their webhooks are muted.",
  tags: ["Alerts"],
  scope: "alerts:write",
  successStatus: 201,
  body: silenceInputSchema,
  response: z.object({ silence: Silence }),
});

export const expireSilence = defineContract({
  method: "post",
  path: "/api/v1/silences/{id}/expire",
  operationId: "expireSilence",
  summary: "End a silence now",
  tags: ["Alerts"],
  scope: "alerts:write",
  params: idParams,
  extraErrors: { 404: "No such silence.", 409: "It already ended." },
  response: z.object({ silence: Silence }),
});
