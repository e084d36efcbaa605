import { UnlockSignInButton } from "@/components/admin/unlock-sign-in-button";
import { Badge } from "@/components/ui/badge";
import { ActionsTH, Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { Time } from "@/components/time";
import type { SignInLockView } from "@/lib/auth/sign-in-limits";

const SCOPE_LABEL: Record<SignInLockView["scope"], string> = {
  account_and_address: "account, from one address",
  account: "account, from every address",
  address: "address, every account",
};

/** Sign-in locks in force (lib/auth/sign-in-limits.ts), each with an Unlock action. */
export function SignInLocksTable({
  locks,
  canUnlock,
}: {
  locks: SignInLockView[];
  canUnlock: boolean;
}) {
  return (
    <section aria-labelledby="sign-in-locks-heading" className="mt-8">
      <h2 id="sign-in-locks-heading" className="text-sm font-semibold">
        Sign-in locks
      </h2>
      <p className="mb-2 text-xs text-muted-foreground">
        Accounts and addresses paused after too many wrong passwords. A lock ends by itself at its
        time; the email is as typed and may match no user.
      </p>
      {locks.length === 0 ? (
        <p className="rounded-md border border-dashed px-3 py-4 text-sm text-muted-foreground">
          No sign-in is locked.
        </p>
      ) : (
        <Table aria-label="Sign-in locks">
          <THead>
            <TR>
              <TH>Locked</TH>
              <TH>Email</TH>
              <TH>Address</TH>
              <TH align="right">Failures</TH>
              <TH>Until</TH>
              {canUnlock ? <ActionsTH /> : null}
            </TR>
          </THead>
          <TBody>
            {locks.map((lock) => (
              <TR key={lock.id} data-testid={`sign-in-lock-${lock.email ?? lock.address}`}>
                <TD>
                  <Badge variant="destructive">{SCOPE_LABEL[lock.scope]}</Badge>
                </TD>
                <TD>{lock.email ?? <span className="text-muted-foreground">any</span>}</TD>
                <TD mono>
                  {lock.address ?? <span className="font-sans text-muted-foreground">any</span>}
                </TD>
                <TD numeric>{lock.failures}</TD>
                <TD muted className="whitespace-nowrap">
                  <Time value={lock.lockedUntil} />
                </TD>
                {canUnlock ? (
                  <TD align="right">
                    <UnlockSignInButton
                      lock={{
                        id: lock.id,
                        label: [lock.email, lock.address].filter(Boolean).join(" from "),
                      }}
                    />
                  </TD>
                ) : null}
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </section>
  );
}
