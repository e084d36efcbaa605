import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { getSignedInUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in · ModelDeck" };

/** Only same-site paths are honoured as a post-sign-in destination (no open redirect). */
function safeNext(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return v && v.startsWith("/") && !v.startsWith("//") ? v : "/";
}

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = safeNext((await searchParams).next);
  if (await getSignedInUser(await headers())) redirect(next);
  return (
    <main className="flex min-h-screen items-center justify-center bg-muted/40 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <div className="mx-auto mb-3 flex size-10 items-center justify-center rounded-lg bg-accent text-lg font-semibold text-accent-foreground">
            M
          </div>
          <h1 className="text-xl font-semibold tracking-tight">Sign in to ModelDeck</h1>
          <p className="mt-1 text-sm text-muted-foreground">
            ONNX model registry, serving and monitoring
          </p>
        </div>
        <div className="rounded-lg border border-border bg-background p-6 shadow-sm">
          <SignInForm next={next} />
        </div>
        <p className="mt-4 text-center text-xs text-muted-foreground">
          No account? Ask an administrator. The first admin&apos;s password is printed when
          ModelDeck starts for the first time.
        </p>
      </div>
    </main>
  );
}
