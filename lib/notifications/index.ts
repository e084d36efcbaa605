export * from "./event-types";
export * from "./events";
export * from "./signature";
export * from "./settings";
export * from "./webhooks";
export { WebhookDispatcher, attemptDelivery } from "./dispatcher";
export { DELIVERY_ERROR_CLASSES, type DeliveryErrorClass } from "./queue";
