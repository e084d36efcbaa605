"use client";

import { useState } from "react";
import { ApiClientError } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogBody,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
  type DialogContentProps,
} from "@/components/ui/dialog";

export type FormDialogProps = {
  /** Uncontrolled: the element that opens it. Controlled: pass open and onOpenChange. */
  trigger?: React.ReactElement;
  open?: boolean;
  onOpenChange?: (open: boolean) => void;
  title: React.ReactNode;
  description?: React.ReactNode;
  submitLabel: string;
  submitDisabled?: boolean;
  /** Dialog width (default md); a tall form scrolls its fields between the fixed header and footer. */
  size?: DialogContentProps["size"];
  /** Runs on submit; throw (an ApiClientError from apiFetch) to keep the dialog open with the error. */
  onSubmit: (form: FormData) => Promise<void>;
  /** The fields; `error` lets each Field show the API's message for it (`error?.fieldError(name)`). */
  children: (error: ApiClientError | null) => React.ReactNode;
};

/**
 * The form-in-a-dialog every create/edit action uses: busy state, the API's error (general
 * message on top, field messages beside their fields), Cancel, and closing on success. The
 * fields scroll when they are taller than the window; the title and the buttons stay in view.
 */
export function FormDialog({
  trigger,
  open: openProp,
  onOpenChange,
  title,
  description,
  submitLabel,
  submitDisabled,
  size,
  onSubmit,
  children,
}: FormDialogProps) {
  const [openState, setOpenState] = useState(false);
  const open = openProp ?? openState;
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);

  function setOpen(next: boolean) {
    if (openProp === undefined) setOpenState(next);
    onOpenChange?.(next);
    if (!next) setError(null);
  }

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(new FormData(event.currentTarget));
      setOpen(false);
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      {trigger ? <DialogTrigger asChild>{trigger}</DialogTrigger> : null}
      <DialogContent size={size}>
        <DialogHeader>
          <DialogTitle>{title}</DialogTitle>
          {description ? <DialogDescription>{description}</DialogDescription> : null}
        </DialogHeader>
        {/* contents: body and footer become the dialog's own grid rows, so only the body scrolls. */}
        <form onSubmit={submit} className="contents">
          <DialogBody className="space-y-4">
            {error && error.fields.length === 0 ? (
              <Alert variant="error">{error.message}</Alert>
            ) : null}
            {children(error)}
          </DialogBody>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" loading={busy} disabled={submitDisabled}>
              {submitLabel}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
