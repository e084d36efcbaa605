/** Pieces shared by the create- and edit-model forms. */
export const TASK_OPTIONS = [
  { value: "classification", label: "Classification" },
  { value: "regression", label: "Regression" },
  { value: "other", label: "Other" },
];

/** "a, b,,c " → ["a", "b", "c"] */
export function tagsFrom(form: FormData): string[] {
  return String(form.get("tags") ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

export function ApprovalCheckbox({ defaultChecked = false }: { defaultChecked?: boolean }) {
  return (
    <label className="flex items-start gap-2 text-sm">
      <input
        type="checkbox"
        name="approvalRequired"
        defaultChecked={defaultChecked}
        className="mt-0.5 size-4 accent-[var(--accent)]"
      />
      <span>
        Require approval for production
        <span className="block text-xs text-muted-foreground">
          Moving production then creates a request another admin must approve.
        </span>
      </span>
    </label>
  );
}
