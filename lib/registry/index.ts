/**
 * The model registry's domain core: models, versions, aliases (promotion, rollback, history)
 * and promotion approval. No HTTP here: routes validate input, call these functions with the
 * request's actor (and role where permissions depend on the alias), and map ApiErrors.
 * Helpers that assume the caller holds the model lock stay internal to this folder.
 */
export {
  AliasMovedError,
  assertMayChangeAlias,
  getAlias,
  getAliasHistory,
  listAliases,
  removeAlias,
  rollbackAlias,
  setAlias,
  type AliasActor,
  type AliasMoveResult,
  type RollbackAliasInput,
  type SetAliasInput,
  type SetAliasResult,
} from "./aliases";
export {
  approvePromotion,
  cancelPromotion,
  getPromotionRequest,
  listPromotionRequests,
  rejectPromotion,
  type ApprovePromotionResult,
  type PromotionStatus,
} from "./approvals";
export * from "./events";
export * from "./models";
export * from "./names";
export { checkSampleRequest, setSampleRequest, type CheckedSampleRequest } from "./sample-request";
export {
  type ActorRef,
  type AliasHistoryView,
  type AliasView,
  type ModelView,
  type PromotionRequestView,
  type VersionDetail,
  type VersionRef,
  type VersionView,
} from "./shared";
export * from "./versions";
