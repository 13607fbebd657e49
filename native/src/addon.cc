// Entry point of the native engine: tensors, the ops the project uses, autograd and runtime
// settings. Nothing here knows about style transfer; the algorithms live in TypeScript.
#include "tensor_wrap.h"

static Napi::Object InitEngine(Napi::Env env, Napi::Object exports) {
  nst::InstallAllocator();
  exports.Set("NativeTensor", nst::TensorWrap::Define(env));
  nst::RegisterOps(env, exports);
  nst::RegisterAutograd(env, exports);
  nst::RegisterRuntime(env, exports);
  return exports;
}

NODE_API_MODULE(nst_native, InitEngine)
