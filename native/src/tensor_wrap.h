// A JavaScript object that owns one torch::Tensor. Memory is released by dispose() (deterministic,
// used by the TypeScript scope API) or, as a fallback, when the object is garbage-collected.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include "torch_compat.h"
#include <atomic>
#include <functional>

namespace nst {

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, torch::Tensor tensor);
  static torch::Tensor& From(const Napi::Value& value, const char* what = "tensor");
  static bool IsTensor(const Napi::Value& value);
  static int64_t LiveCount() { return live_.load(); }

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;

 private:
  void Release();
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value DType(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value ToFloat32Array(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);

  torch::Tensor tensor_;
  bool holds_ = false;
  static std::atomic<int64_t> live_;  // tensors held by JS objects, for leak tests
};

// Runs fn, turning libtorch/C++ errors into one-line JavaScript errors (no C++ backtrace).
Napi::Value Guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& fn);

// Helpers to read arguments.
std::vector<int64_t> IntList(const Napi::Value& value, const char* what);
double Number(const Napi::Value& value, const char* what);
bool OptionalBool(const Napi::Value& value, bool fallback);
Optional<torch::Tensor> OptionalTensor(const Napi::Value& value);

// Tensor memory allocator (allocator.cc): tcmalloc when available.
void InstallAllocator();
std::string AllocatorName();
bool ReleaseFreeMemory();

// Registration of each group of functions on the module's exports.
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterAutograd(Napi::Env env, Napi::Object exports);
void RegisterRuntime(Napi::Env env, Napi::Object exports);

// Defines exports[name] as a guarded function.
void Export(Napi::Env env, Napi::Object exports, const char* name,
            std::function<Napi::Value(const Napi::CallbackInfo&)> fn);

}  // namespace nst
