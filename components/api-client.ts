"use client";

/** Browser-side calls to /api/v1 that surface the API's error body as a readable Error. */
export type FieldProblem = { field: string; message: string };

export class ApiClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
  }
  /** The message for one form field, if the API named it. */
  fieldError(field: string): string | undefined {
    const problem = this.fields.find((f) => f.field === field);
    return problem ? `${capitalise(problem.message)}.` : undefined;
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export async function apiFetch<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers: init.body !== undefined ? { "content-type": "application/json" } : undefined,
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    credentials: "same-origin",
  });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (
      data as { error?: { code?: string; message?: string; details?: { fields?: FieldProblem[] } } }
    )?.error;
    throw new ApiClientError(
      error?.message ?? `Request failed with HTTP ${response.status}.`,
      response.status,
      error?.code ?? "unknown",
      error?.details?.fields ?? [],
    );
  }
  return data as T;
}
