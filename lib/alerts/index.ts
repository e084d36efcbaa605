export * from "./definitions";
export { acknowledgeAlert, ackInputSchema, countFiringAlerts, listAlerts } from "./alerts";
export type { AlertTransitionView, AlertView } from "./alerts";
export { evaluateAlertRules, evaluateRule } from "./evaluator";
export type { EvaluationSummary } from "./evaluator";
export { ALERT_EVENTS_CHANNEL, notifyAlertEvent } from "./notify";
export {
  alertRuleFields,
  alertRuleInputSchema,
  alertRuleUpdateSchema,
  createAlertRule,
  deleteAlertRule,
  getAlertRule,
  listAlertRules,
  updateAlertRule,
} from "./rules";
export type { AlertRuleInput, AlertRuleUpdate, AlertRuleView } from "./rules";
export { createSilence, expireSilence, listSilences, silenceInputSchema } from "./silences";
export type { SilenceInput, SilenceView } from "./silences";
export { alertEvaluationTask, evaluationSchedule } from "./task";
