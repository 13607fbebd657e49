// Process and thread settings: thread count, seeds, devices, mixed precision, diagnostics.
#include "tensor_wrap.h"

#include <ATen/Parallel.h>
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
  // Mixed precision for the calling thread: setAutocast(device "cpu"|"cuda", enabled, dtype
  // "bfloat16"|"float16"; default bfloat16).
  Export(env, e, "setAutocast", [](const Info& info) {
    std::string device = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu";
    bool enabled = OptionalBool(info[1], false);
    std::string dtype = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "bfloat16";
    if (dtype != "bfloat16" && dtype != "float16") throw Napi::TypeError::New(info.Env(), "autocast dtype must be bfloat16 or float16");
    c10::DeviceType type = torch::Device(device).type();
    compat::SetAutocast(type, enabled, dtype == "float16" ? at::kHalf : at::kBFloat16);
    if (!enabled) at::autocast::clear_cache();
    return info.Env().Undefined();
  });
  // CUDA math modes, process-wide (no effect on CPU): TF32 tensor cores for fp32 convolutions
  // (tf32Conv; libtorch's and PyTorch's default: on) and matrix products (tf32Matmul; default
  // off), and cuDNN's autotuner (cudnnBenchmark: times the algorithms once per shape). Options
  // left out keep their value; returns the previous settings, to restore them.
  Export(env, e, "setCudaMath", [](const Info& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "setCudaMath expects an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    auto& ctx = at::globalContext();
    Napi::Object before = Napi::Object::New(info.Env());
    before.Set("tf32Conv", ctx.allowTF32CuDNN());
    before.Set("tf32Matmul", ctx.allowTF32CuBLAS());
    before.Set("cudnnBenchmark", ctx.benchmarkCuDNN());
    if (o.Get("tf32Conv").IsBoolean()) ctx.setAllowTF32CuDNN(o.Get("tf32Conv").As<Napi::Boolean>().Value());
    if (o.Get("tf32Matmul").IsBoolean()) ctx.setAllowTF32CuBLAS(o.Get("tf32Matmul").As<Napi::Boolean>().Value());
    if (o.Get("cudnnBenchmark").IsBoolean()) ctx.setBenchmarkCuDNN(o.Get("cudnnBenchmark").As<Napi::Boolean>().Value());
    return before;
  });
  // Waits for the queued kernels of a CUDA device (timing, and nothing else: reading a value
  // back already waits). A no-op for the CPU.
  Export(env, e, "synchronize", [](const Info& info) {
    std::string device = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu";
    torch::Device d(device);
    if (d.is_cuda()) torch::cuda::synchronize(d.has_index() ? d.index() : -1);
    return info.Env().Undefined();
  });
  Export(env, e, "releaseFreeMemory", [](const Info& info) {
    return Napi::Boolean::New(info.Env(), ReleaseFreeMemory());
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
    o.Set("cudaDevices", double(torch::cuda::device_count()));
    auto& ctx = at::globalContext();
    o.Set("tf32Conv", ctx.allowTF32CuDNN());
    o.Set("tf32Matmul", ctx.allowTF32CuBLAS());
    o.Set("cudnnBenchmark", ctx.benchmarkCuDNN());
    o.Set("allocator", AllocatorName());
    return o;
  });
}

}  // namespace nst
