// The legitimate application's main module while the fuzzer runs (harness.ts): its FlintContext bundles this
// file for its executors. The health check's job (`range(...).count()`) applies no function of its own, so
// nothing needs exporting but this marker.
export const FUZZ_LEGIT_APP = true;
