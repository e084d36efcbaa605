import { OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { registry } from "./contract";
// Importing a contracts module registers its operations; list every module here.
import "./contracts/alerts";
import "./contracts/batch";
import "./contracts/drift";
import "./contracts/evaluation";
import "./contracts/events";
import "./contracts/identity";
import "./contracts/jobs";
import "./contracts/monitoring";
import "./contracts/notifications";
import "./contracts/registry";
import "./contracts/serving";

let cached: ReturnType<OpenApiGeneratorV31["generateDocument"]> | undefined;

export function openApiDocument() {
  cached ??= new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "ModelDeck management API",
      version: "1",
      description:
        "Control-plane API of ModelDeck. Authenticate with `Authorization: Bearer <API token>` " +
        'or a browser session. Errors are `{"error":{"code","message","details"}}`.',
    },
    servers: [{ url: "/" }],
  });
  return cached;
}
