// Process and thread settings: thread count, seeds, devices, mixed precision, diagnostics.
#include "tensor_wrap.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace nst {

void RegisterRuntime(Napi::Env env, Napi::Object e) {
  using Info = Napi::CallbackInfo;
  // Debian's libtorch starts with one intra-op thread here, and OpenMP's count is per calling
  // thread: call this from the thread that computes.
  Export(env, e, "setNumThreads", [](const Info& info) {
    int n = int(Number(info[0], "threads"));
    if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
    at::set_num_threads(n);
    return info.Env().Undefined();
  });
  Export(env, e, "getNumThreads", [](const Info& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); });
  Export(env, e, "manualSeed", [](const Info& info) {
    torch::manual_seed(uint64_t(Number(info[0], "seed")));
    return info.Env().Undefined();
  });
  Export(env, e, "cudaAvailable", [](const Info& info) { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); });
  Export(env, e, "cudaDeviceCount", [](const Info& info) {
    return Napi::Number::New(info.Env(), double(torch::cuda::device_count()));
  });
  // Mixed precision for the calling thread: autocast(device "cpu"|"cuda", enabled, dtype).
  Export(env, e, "setAutocast", [](const Info& info) {
    std::string device = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu";
    bool enabled = OptionalBool(info[1], false);
    if (device == "cpu") {
      at::autocast::set_cpu_enabled(enabled);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    } else {
      at::autocast::set_enabled(enabled);
    }
    if (!enabled) at::autocast::clear_cache();
    return info.Env().Undefined();
  });
  Export(env, e, "liveTensors", [](const Info& info) {
    return Napi::Number::New(info.Env(), double(TensorWrap::LiveCount()));
  });
  Export(env, e, "info", [](const Info& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("torchVersion", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                              std::to_string(TORCH_VERSION_PATCH));
    o.Set("parallel", at::get_parallel_info());
    o.Set("mkldnn", at::hasMKLDNN());
    o.Set("cuda", torch::cuda::is_available());
    o.Set("allocator", AllocatorName());
    return o;
  });
}

}  // namespace nst
