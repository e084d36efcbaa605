import { BoxesIcon } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Models · ModelDeck" };

export default function ModelsPage() {
  return (
    <>
      <PageHeader
        title="Models"
        description="Registered ONNX models, their versions and aliases."
      />
      <EmptyState
        bordered
        icon={<BoxesIcon />}
        title="No models registered yet"
        description="Models you upload appear here with their versions, signature, and which version is in staging and production. Uploads and promotion arrive with the model registry."
      />
    </>
  );
}
