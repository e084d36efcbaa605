import { CircleAlertIcon } from "lucide-react";
import * as React from "react";

import { cn } from "./cn";
import { Input } from "./input";
import { Label } from "./label";
import { Textarea } from "./textarea";

/** Props `<Field>` hands to its control so it is labelled, described and flagged invalid. */
export type FieldControlProps = {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
  "aria-required"?: true;
  required?: true;
  disabled?: true;
};

export type FieldProps = {
  label: React.ReactNode;
  /** Id of the control; generated when omitted (or taken from the child's own `id`). */
  id?: string;
  /** Help text shown under the control, linked with aria-describedby. */
  hint?: React.ReactNode;
  /** Validation message(s). When present the control gets aria-invalid and the message is announced with it. */
  error?: React.ReactNode | readonly string[];
  required?: boolean;
  /** Shows a muted "(optional)" after the label. */
  optional?: boolean;
  disabled?: boolean;
  /** Rendered at the right end of the label row (e.g. a "Generate" link or character counter). */
  labelAside?: React.ReactNode;
  className?: string;
  /**
   * The control. A single element (`<Input name="x" />`) gets the wiring props merged in;
   * for composite controls (e.g. `<Select>`) pass a function and spread the props where they belong.
   */
  children:
    React.ReactElement<Record<string, unknown>> | ((control: FieldControlProps) => React.ReactNode);
};

const NATIVE_REQUIRED = new Set<unknown>(["input", "textarea", "select", Input, Textarea]);

function hasError(error: FieldProps["error"]): boolean {
  if (error === null || error === undefined || error === false || error === "") return false;
  if (Array.isArray(error)) return error.length > 0;
  return true;
}

/**
 * Label + control + hint + error, with the accessibility wiring done for you:
 * `<label for>`, `aria-describedby` (error first, then hint), `aria-invalid`, `aria-required`.
 * Server-component safe.
 */
export function Field({
  label,
  id: idProp,
  hint,
  error,
  required = false,
  optional = false,
  disabled = false,
  labelAside,
  className,
  children,
}: FieldProps) {
  const generatedId = React.useId();
  const childElement = typeof children === "function" ? null : children;
  const childId =
    childElement && typeof childElement.props.id === "string" ? childElement.props.id : undefined;
  const id = idProp ?? childId ?? `field${generatedId.replace(/:/g, "")}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const invalid = hasError(error);

  const describedBy = [invalid ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ");
  const control: FieldControlProps = {
    id,
    ...(describedBy ? { "aria-describedby": describedBy } : {}),
    ...(invalid ? { "aria-invalid": true as const } : {}),
    ...(required ? { "aria-required": true as const, required: true as const } : {}),
    ...(disabled ? { disabled: true as const } : {}),
  };

  let renderedControl: React.ReactNode;
  if (typeof children === "function") {
    renderedControl = children(control);
  } else {
    const own = children.props;
    const merged: Record<string, unknown> = { ...control };
    if (!NATIVE_REQUIRED.has(children.type)) delete merged.required;
    const ownDescribedBy =
      typeof own["aria-describedby"] === "string" ? own["aria-describedby"] : "";
    const allDescribedBy = [describedBy, ownDescribedBy].filter(Boolean).join(" ");
    if (allDescribedBy) merged["aria-describedby"] = allDescribedBy;
    renderedControl = React.cloneElement(children, merged);
  }

  const errors: React.ReactNode[] = Array.isArray(error) ? error : invalid ? [error] : [];

  return (
    <div className={cn("grid gap-1.5", className)} data-invalid={invalid || undefined}>
      <div className="flex min-h-5 items-baseline justify-between gap-2">
        <Label htmlFor={id} className={cn(disabled && "opacity-60")}>
          {label}
          {required ? (
            <span aria-hidden="true" className="ml-0.5 text-destructive">
              *
            </span>
          ) : null}
          {optional && !required ? (
            <span className="ml-1 font-normal text-muted-foreground">(optional)</span>
          ) : null}
        </Label>
        {labelAside ? <div className="text-xs text-muted-foreground">{labelAside}</div> : null}
      </div>
      {renderedControl}
      {invalid ? (
        <div id={errorId} className="flex gap-1.5 text-[13px] leading-5 text-destructive">
          <CircleAlertIcon aria-hidden="true" className="mt-0.5 size-4 shrink-0" />
          {errors.length === 1 ? (
            <p>{errors[0]}</p>
          ) : (
            <ul className="grid gap-0.5">
              {errors.map((message, index) => (
                <li key={index}>{message}</li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
      {hint ? (
        <p id={hintId} className="text-xs leading-4 text-muted-foreground">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** Groups related fields (e.g. a radio set) under a visible legend. */
export function Fieldset({
  legend,
  description,
  className,
  children,
  ...props
}: React.ComponentProps<"fieldset"> & { legend: React.ReactNode; description?: React.ReactNode }) {
  return (
    <fieldset className={cn("min-w-0", className)} {...props}>
      <legend className="mb-1 text-sm font-semibold text-foreground">{legend}</legend>
      {description ? <p className="mb-3 text-[13px] text-muted-foreground">{description}</p> : null}
      <div className="grid gap-4">{children}</div>
    </fieldset>
  );
}
