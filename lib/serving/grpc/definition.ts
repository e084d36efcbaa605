import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/**
 * The Open Inference Protocol's gRPC service, loaded from the protocol's own `.proto` file
 * (grpc_predict_v2.proto beside this file, KServe's `docs/predict-api/v2/grpc_predict_v2.proto`
 * as published, licence header kept), and TypeScript shapes of the messages as proto-loader
 * hands them over with these options.
 *
 * `longs: String`: int64 / uint64 values (shapes, INT64 and UINT64 contents, int64 parameters)
 * arrive as decimal strings, so a value past 2^53 is never rounded silently on the way in; the
 * tensor code checks and converts them. `bytes` stay Buffers (proto-loader's default).
 * `defaults: false` so an unset field is undefined (proto3 has no presence otherwise), and
 * `oneofs: true` so an InferParameter says which of its values it holds.
 */
export const PROTO_FILE = fileURLToPath(new URL("./grpc_predict_v2.proto", import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: true,
};

let service: grpc.ServiceDefinition | null = null;

/** `inference.GRPCInferenceService`, loaded once per process. */
export function inferenceServiceDefinition(): grpc.ServiceDefinition {
  if (!service) {
    const definition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
    service = definition["inference.GRPCInferenceService"] as grpc.ServiceDefinition;
  }
  return service;
}

/** int64 as decoded (a decimal string) or as we may send it (a number or a string). */
type Int64 = string | number;

export type InferParameter = {
  parameter_choice?: "bool_param" | "int64_param" | "string_param";
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
};

export type InferTensorContents = {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Int64[];
  uint_contents?: number[];
  uint64_contents?: Int64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
};

export type ModelInferRequest = {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameter>;
  inputs?: Array<{
    name?: string;
    datatype?: string;
    shape?: Int64[];
    parameters?: Record<string, InferParameter>;
    contents?: InferTensorContents;
  }>;
  outputs?: Array<{ name?: string; parameters?: Record<string, InferParameter> }>;
  raw_input_contents?: Uint8Array[];
};

export type InferOutputTensor = {
  name: string;
  datatype: string;
  shape: number[];
  contents?: InferTensorContents;
};

export type ModelInferResponse = {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  outputs: InferOutputTensor[];
  raw_output_contents?: Uint8Array[];
};

/** Name and version, as ModelReady and ModelMetadata take them. */
export type ModelRef = { name?: string; version?: string };
