// Validates Kubernetes manifests (JSON array on stdin) with the WasmPlugin / EnvoyFilter models of
// @kubernetes-models/istio, i.e. Istio's published CRD OpenAPI schemas compiled to validators.
// Prints one JSON line: [{kind, name, valid, errors}] (errors as the validator reports them).
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin";

const MODELS = { "extensions.istio.io/v1alpha1/WasmPlugin": WasmPlugin };

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const docs = JSON.parse(input);
const results = docs.map((doc) => {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  const name = doc.metadata?.name ?? null;
  if (!Model) {
    return { kind: doc.kind, name, valid: false, errors: [`no validator for ${doc.apiVersion}/${doc.kind}`] };
  }
  try {
    new Model(doc).validate();
    return { kind: doc.kind, name, valid: true, errors: [] };
  } catch (err) {
    return { kind: doc.kind, name, valid: false, errors: [String(err.message ?? err)] };
  }
});
console.log(JSON.stringify(results));
