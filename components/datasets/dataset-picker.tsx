"use client";

import { Field } from "@/components/ui/field";
import { NativeSelect } from "@/components/ui/native-select";

/** A dataset by name with its version numbers, newest first. */
export type DatasetChoice = { name: string; versions: number[] };

/**
 * "Dataset" and "Dataset version" selects for forms that run something over a dataset
 * (evaluations, batch predictions). An empty version means the latest.
 */
export function DatasetPicker({
  datasets,
  dataset,
  datasetVersion,
  onDatasetChange,
  onDatasetVersionChange,
  disabled,
}: {
  datasets: DatasetChoice[];
  dataset: string;
  datasetVersion: string;
  onDatasetChange: (name: string) => void;
  onDatasetVersionChange: (version: string) => void;
  disabled?: boolean;
}) {
  const chosen = datasets.find((d) => d.name === dataset);
  return (
    <>
      <Field label="Dataset">
        <NativeSelect
          value={dataset}
          onChange={(e) => {
            onDatasetChange(e.target.value);
            onDatasetVersionChange("");
          }}
          disabled={disabled}
        >
          {datasets.map((d) => (
            <option key={d.name} value={d.name}>
              {d.name}
            </option>
          ))}
        </NativeSelect>
      </Field>
      <Field label="Dataset version">
        <NativeSelect
          value={datasetVersion}
          onChange={(e) => onDatasetVersionChange(e.target.value)}
          disabled={disabled}
        >
          <option value="">latest{chosen?.versions[0] ? ` (v${chosen.versions[0]})` : ""}</option>
          {chosen?.versions.map((v) => (
            <option key={v} value={v}>
              v{v}
            </option>
          ))}
        </NativeSelect>
      </Field>
    </>
  );
}
