import type * as React from "react";

import { Field, type FieldProps } from "./field";
import { Input } from "./input";

export type NumberFieldProps = Pick<
  FieldProps,
  "label" | "hint" | "error" | "required" | "optional" | "className"
> & {
  name: string;
  /** Whole numbers only: a numeric keypad and step 1 (otherwise any decimal). */
  integer?: boolean;
  min?: number;
  max?: number;
  /** Empty for an unset optional value. */
  defaultValue?: number | string;
  placeholder?: string;
  disabled?: boolean;
  inputProps?: Omit<React.ComponentProps<"input">, "name" | "type" | "defaultValue">;
};

/**
 * A labelled number input for settings forms: `<NumberField name="maxBatchSize" integer min={1} />`.
 * The browser checks the bounds before submit; the API still validates and its field
 * message shows through `error`.
 */
export function NumberField({
  label,
  hint,
  error,
  required,
  optional,
  className,
  name,
  integer = false,
  min,
  max,
  defaultValue,
  placeholder,
  disabled,
  inputProps,
}: NumberFieldProps) {
  return (
    <Field
      label={label}
      hint={hint}
      error={error}
      required={required}
      optional={optional}
      className={className}
    >
      <Input
        {...inputProps}
        name={name}
        type="number"
        inputMode={integer ? "numeric" : "decimal"}
        step={integer ? 1 : "any"}
        min={min}
        max={max}
        defaultValue={defaultValue}
        placeholder={placeholder}
        disabled={disabled}
      />
    </Field>
  );
}
