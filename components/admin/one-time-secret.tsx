import { Alert } from "@/components/ui/alert";
import { CopyButton } from "@/components/ui/copy-button";

/** A secret shown exactly once (a generated password, a new API token), with a copy button. */
export function OneTimeSecret({
  value,
  warning,
  testId,
}: {
  value: string;
  warning: string;
  testId: string;
}) {
  return (
    <>
      <Alert variant="warning">{warning}</Alert>
      <div className="flex items-center gap-2">
        <code
          data-testid={testId}
          className="flex-1 break-all rounded-md border border-border bg-muted px-3 py-2 font-mono text-xs"
        >
          {value}
        </code>
        <CopyButton value={value} />
      </div>
    </>
  );
}
