import { openApiDocument } from "@/lib/api/openapi";

// Public on purpose: the document describes the API, it exposes no data.
export const GET = () => Response.json(openApiDocument());
