import { ApiError } from "@/lib/api/errors";
import { jsonError } from "@/lib/api/route";

// Unknown /api/v1 paths answer in the API's error format rather than with an HTML 404 page.
const notFound = (request: Request) =>
  jsonError(
    new ApiError(
      "not_found",
      `No API operation at ${request.method} ${new URL(request.url).pathname}; see /api/v1/openapi.json.`,
    ),
  );

export {
  notFound as GET,
  notFound as POST,
  notFound as PUT,
  notFound as PATCH,
  notFound as DELETE,
};
