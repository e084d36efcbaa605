/**
 * A version's sample request: an Open Inference Protocol inference request body that the
 * version is known to answer (Triton's `model_warmup`, as a request). Serving warms the version
 * up with it instead of a synthetic request, and it is the version's documented example and the
 * "Try it" panel's first request. Pure and client-safe: the schema, and how a sample becomes
 * onnxruntime feeds (the same parser serving uses on every request, so "valid sample" means
 * exactly "a request serving accepts").
 */
import { z } from "zod";
import type { OnnxSignature } from "../onnx/types";
import { prepareInferRequest, type HostTensor } from "./protocol";

/** Largest sample request, as JSON text: it must fit, wrapped, in a 1 MiB API request body. */
export const SAMPLE_REQUEST_MAX_BYTES = 512 * 1024;

const parameters = z.record(z.string(), z.unknown());

/** The shape of an OIP inference request; whether it fits the model is checked by `sampleFeeds`. */
export const sampleRequestSchema = z
  .object({
    id: z.string().max(200).optional(),
    parameters: parameters.optional(),
    inputs: z
      .array(
        z
          .object({
            name: z.string().min(1).max(1000),
            shape: z.array(z.number().int().min(0)).max(8),
            datatype: z.string().min(1).max(16),
            parameters: parameters.optional(),
            data: z.array(z.unknown()),
          })
          .strict(),
      )
      .min(1, "must hold at least one input tensor"),
    outputs: z
      .array(z.object({ name: z.string().min(1), parameters: parameters.optional() }).strict())
      .optional(),
  })
  .strict();

export type SampleRequest = z.infer<typeof sampleRequestSchema>;

/**
 * The request with its fields in the protocol's order (id, parameters, inputs: name, shape,
 * datatype, parameters, data; outputs), as people write and read it: Postgres' jsonb keeps
 * object keys in an order of its own.
 */
export function orderedSampleRequest(sample: SampleRequest): SampleRequest {
  return {
    ...(sample.id !== undefined ? { id: sample.id } : {}),
    ...(sample.parameters !== undefined ? { parameters: sample.parameters } : {}),
    inputs: sample.inputs.map((i) => ({
      name: i.name,
      shape: i.shape,
      datatype: i.datatype,
      ...(i.parameters !== undefined ? { parameters: i.parameters } : {}),
      data: i.data,
    })),
    ...(sample.outputs !== undefined
      ? {
          outputs: sample.outputs.map((o) => ({
            name: o.name,
            ...(o.parameters !== undefined ? { parameters: o.parameters } : {}),
          })),
        }
      : {}),
  };
}

/**
 * The onnxruntime feeds of a sample request for this signature. Throws InferenceInputError
 * (whose message names the input and what was expected) when it does not fit the model.
 */
export function sampleFeeds(sample: unknown, signature: OnnxSignature): Record<string, HostTensor> {
  return prepareInferRequest(sample, signature).inputs;
}

/** How the synthetic warm-up request is made, for messages ("… failed: …"). */
export const SYNTHETIC_WARM_UP =
  "a synthetic request made from the signature (zeros, dynamic dimensions set to 1)";
