"use client";

import * as AlertDialogPrimitive from "@radix-ui/react-alert-dialog";
import { CircleAlertIcon, TriangleAlertIcon } from "lucide-react";
import { unstable_rethrow } from "next/navigation";
import * as React from "react";

import { Alert } from "./alert";
import { buttonVariants } from "./button";
import { cn } from "./cn";
import { Spinner } from "./spinner";

export const AlertDialog = AlertDialogPrimitive.Root;
export const AlertDialogTrigger = AlertDialogPrimitive.Trigger;
export const AlertDialogPortal = AlertDialogPrimitive.Portal;

export function AlertDialogContent({
  className,
  children,
  ...props
}: React.ComponentProps<typeof AlertDialogPrimitive.Content>) {
  return (
    <AlertDialogPortal>
      <AlertDialogPrimitive.Overlay className="fixed inset-0 z-50 bg-overlay data-[state=closed]:animate-fade-out data-[state=open]:animate-fade-in" />
      <AlertDialogPrimitive.Content
        className={cn(
          "fixed top-1/2 left-1/2 z-50 grid max-h-[calc(100dvh-2rem)] w-[calc(100vw-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 gap-4 overflow-y-auto",
          "rounded-xl border border-border bg-popover p-5 text-popover-foreground shadow-xl outline-none",
          "data-[state=closed]:animate-pop-out data-[state=open]:animate-pop-in",
          className,
        )}
        {...props}
      >
        {children}
      </AlertDialogPrimitive.Content>
    </AlertDialogPortal>
  );
}

export function AlertDialogHeader({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("grid gap-1.5", className)} {...props} />;
}

export function AlertDialogFooter({ className, ...props }: React.ComponentProps<"div">) {
  return (
    <div
      className={cn(
        "flex flex-col-reverse gap-2 pt-1 sm:flex-row sm:items-center sm:justify-end",
        className,
      )}
      {...props}
    />
  );
}

export function AlertDialogTitle({
  className,
  ...props
}: React.ComponentProps<typeof AlertDialogPrimitive.Title>) {
  return (
    <AlertDialogPrimitive.Title
      className={cn("text-base leading-6 font-semibold text-foreground", className)}
      {...props}
    />
  );
}

export function AlertDialogDescription({
  className,
  ...props
}: React.ComponentProps<typeof AlertDialogPrimitive.Description>) {
  return (
    <AlertDialogPrimitive.Description
      className={cn("text-[13px] leading-5 text-muted-foreground", className)}
      {...props}
    />
  );
}

export function AlertDialogAction({
  className,
  destructive = false,
  ...props
}: React.ComponentProps<typeof AlertDialogPrimitive.Action> & { destructive?: boolean }) {
  return (
    <AlertDialogPrimitive.Action
      className={cn(
        buttonVariants({ variant: destructive ? "destructive" : "primary" }),
        className,
      )}
      {...props}
    />
  );
}

export function AlertDialogCancel({
  className,
  ...props
}: React.ComponentProps<typeof AlertDialogPrimitive.Cancel>) {
  return (
    <AlertDialogPrimitive.Cancel
      className={cn(buttonVariants({ variant: "outline" }), className)}
      {...props}
    />
  );
}

export type ConfirmDialogProps = {
  /** The element that opens the dialog (rendered via Radix `asChild`, so pass a `<Button>`). */
  trigger?: React.ReactElement;
  /** Controlled mode (omit `trigger`). */
  open?: boolean;
  onOpenChange?: (open: boolean) => void;
  /** Question-style title: "Promote churn-xgb v14 to production?" */
  title: React.ReactNode;
  /** One sentence of context. */
  description?: React.ReactNode;
  /** Concrete list of what will change, rendered under "This will:". */
  changes?: React.ReactNode[];
  /** Extra content (e.g. a typed-confirmation input). */
  children?: React.ReactNode;
  /** Verb-first label of the confirm button: "Promote", "Delete model". */
  confirmLabel: string;
  cancelLabel?: string;
  /** Red confirm button + warning icon, for irreversible / destructive changes. */
  destructive?: boolean;
  /** Disable the confirm button (e.g. until a typed confirmation matches). */
  confirmDisabled?: boolean;
  /**
   * Runs on confirm. The dialog stays open with a busy button while the promise is pending,
   * closes when it resolves and shows the error message inline when it rejects.
   * A server action works here too.
   */
  onConfirm: () => unknown | Promise<unknown>;
};

/**
 * Confirmation dialog that states what will change before it changes.
 * Focus starts on Cancel (Radix AlertDialog default), Esc cancels.
 */
export function ConfirmDialog({
  trigger,
  open: openProp,
  onOpenChange,
  title,
  description,
  changes,
  children,
  confirmLabel,
  cancelLabel = "Cancel",
  destructive = false,
  confirmDisabled = false,
  onConfirm,
}: ConfirmDialogProps) {
  const [openState, setOpenState] = React.useState(false);
  const [pending, setPending] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const open = openProp ?? openState;

  const setOpen = (next: boolean) => {
    if (pending && !next) return;
    if (next) setError(null);
    setOpenState(next);
    onOpenChange?.(next);
  };

  const confirm = async (event: React.MouseEvent) => {
    event.preventDefault();
    if (pending) return;
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      setPending(false);
      setOpenState(false);
      onOpenChange?.(false);
    } catch (caught) {
      // Let redirect() / notFound() thrown by a server action reach Next.js.
      unstable_rethrow(caught);
      setPending(false);
      setError(
        caught instanceof Error && caught.message ? caught.message : "Something went wrong.",
      );
    }
  };

  const Icon = destructive ? TriangleAlertIcon : CircleAlertIcon;

  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      {trigger ? <AlertDialogTrigger asChild>{trigger}</AlertDialogTrigger> : null}
      <AlertDialogContent>
        <div className="flex gap-3">
          <span
            aria-hidden="true"
            className={cn(
              "mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full",
              destructive
                ? "bg-destructive-subtle text-destructive"
                : "bg-accent-subtle text-accent",
            )}
          >
            <Icon className="size-4" />
          </span>
          <AlertDialogHeader className="min-w-0 flex-1">
            <AlertDialogTitle>{title}</AlertDialogTitle>
            {description ? <AlertDialogDescription>{description}</AlertDialogDescription> : null}
            {changes && changes.length > 0 ? (
              <div className="mt-1 text-[13px] leading-5">
                <p className="font-medium text-foreground">This will:</p>
                <ul className="mt-1 list-disc space-y-0.5 pl-5 text-foreground marker:text-muted-foreground">
                  {changes.map((change, index) => (
                    <li key={index}>{change}</li>
                  ))}
                </ul>
              </div>
            ) : null}
          </AlertDialogHeader>
        </div>
        {children}
        {error ? (
          <Alert variant="error" role="alert">
            {error}
          </Alert>
        ) : null}
        <AlertDialogFooter>
          <AlertDialogCancel disabled={pending}>{cancelLabel}</AlertDialogCancel>
          <AlertDialogAction
            destructive={destructive}
            // aria-disabled rather than disabled while pending, so keyboard focus stays on the button.
            disabled={confirmDisabled}
            aria-disabled={pending || undefined}
            aria-busy={pending || undefined}
            onClick={confirm}
          >
            {pending ? <Spinner size="md" label={null} /> : null}
            {confirmLabel}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
