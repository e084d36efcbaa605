import { EVENTS_SCOPE, eventsQuery } from "@/lib/api/contracts/events";
import { validationError } from "@/lib/api/errors";
import { streamRoute } from "@/lib/api/route";
import { getLiveEventHub } from "@/lib/events/hub";
import { liveEventStream, SSE_HEADERS } from "@/lib/events/sse";
import { getModel } from "@/lib/registry";

// A stream per request, never cached or prerendered.
export const dynamic = "force-dynamic";

export const GET = streamRoute(EVENTS_SCOPE, async ({ db, request }) => {
  const parsed = eventsQuery.safeParse(
    Object.fromEntries(new URL(request.url).searchParams.entries()),
  );
  if (!parsed.success) throw validationError(parsed.error, "query");
  const modelId = parsed.data.model ? (await getModel(db, parsed.data.model)).id : undefined;
  const stream = liveEventStream({
    hub: getLiveEventHub(),
    topics: parsed.data.topics,
    modelId,
    signal: request.signal,
  });
  return new Response(stream, { headers: SSE_HEADERS });
});
