import { toNextJsHandler } from "better-auth/next-js";
import { getAuth } from "@/lib/auth/auth";

// better-auth owns /api/auth/* (sign-in, sign-out, session). Resolved per request so the
// secret provisioned by the supervisor is read at run time, not at build time.
export const dynamic = "force-dynamic";

export const GET = (request: Request) => toNextJsHandler(getAuth()).GET(request);
export const POST = (request: Request) => toNextJsHandler(getAuth()).POST(request);
