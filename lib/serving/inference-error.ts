/** A request the model cannot take; `message` is written for the person who sent it. */
export class InferenceInputError extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 415,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "InferenceInputError";
  }
}
