"use client";

import { CheckIcon, CopyIcon } from "lucide-react";
import * as React from "react";

import { Button, type ButtonProps } from "./button";
import { cn } from "./cn";

async function writeClipboard(text: string): Promise<void> {
  // navigator.clipboard only exists in secure contexts; self-hosted installs are often plain http.
  if (typeof navigator !== "undefined" && navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const textarea = document.createElement("textarea");
  textarea.value = text;
  textarea.setAttribute("readonly", "");
  textarea.style.position = "fixed";
  textarea.style.opacity = "0";
  textarea.style.pointerEvents = "none";
  document.body.appendChild(textarea);
  textarea.select();
  try {
    // Deprecated but still the only fallback outside secure contexts.
    const ok = document.execCommand("copy");
    if (!ok) throw new Error("Copy command was rejected");
  } finally {
    textarea.remove();
  }
}

export type CopyButtonProps = Omit<ButtonProps, "onClick" | "children" | "asChild" | "value"> & {
  /** The text to copy. */
  value: string;
  /** Visible text (and accessible name). Default "Copy". Ignored by `iconOnly`, which uses it as aria-label. */
  label?: string;
  /** Icon-only square button; label becomes the aria-label. */
  iconOnly?: boolean;
  /** Called after a successful copy. */
  onCopied?: () => void;
};

/** Copies `value` to the clipboard and confirms with "Copied" for 2 s (announced to screen readers). */
export function CopyButton({
  value,
  label = "Copy",
  iconOnly = false,
  onCopied,
  variant = "outline",
  size,
  className,
  ...props
}: CopyButtonProps) {
  const [state, setState] = React.useState<"idle" | "copied" | "failed">("idle");
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);

  React.useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const copy = async () => {
    try {
      await writeClipboard(value);
      setState("copied");
      onCopied?.();
    } catch {
      setState("failed");
    }
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), 2000);
  };

  const text = state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label;
  const Icon = state === "copied" ? CheckIcon : CopyIcon;

  return (
    <>
      <Button
        variant={variant}
        size={size ?? (iconOnly ? "icon" : "sm")}
        className={cn(iconOnly && size === undefined && "size-7", className)}
        aria-label={iconOnly ? label : undefined}
        data-state={state}
        onClick={copy}
        {...props}
      >
        <Icon aria-hidden="true" className={cn("size-3.5", state === "copied" && "text-success")} />
        {iconOnly ? null : <span>{text}</span>}
      </Button>
      <span aria-live="polite" className="sr-only">
        {state === "copied" ? "Copied to clipboard" : state === "failed" ? "Copy failed" : ""}
      </span>
    </>
  );
}
