#include "tensor_wrap.h"

#include <sstream>

namespace nst {

std::atomic<int64_t> TensorWrap::live_{0};

namespace {
struct InstanceData {
  Napi::FunctionReference constructor;
};
}  // namespace

Napi::Function TensorWrap::Define(Napi::Env env) {
  Napi::Function cls = DefineClass(env, "NativeTensor", {
    InstanceMethod("dispose", &TensorWrap::Dispose),
    InstanceMethod("isDisposed", &TensorWrap::IsDisposed),
    InstanceMethod("shape", &TensorWrap::Shape),
    InstanceMethod("dtype", &TensorWrap::DType),
    InstanceMethod("device", &TensorWrap::Device),
    InstanceMethod("toFloat32Array", &TensorWrap::ToFloat32Array),
    InstanceMethod("item", &TensorWrap::Item),
    InstanceMethod("requiresGrad", &TensorWrap::RequiresGrad),
    InstanceMethod("setRequiresGrad", &TensorWrap::SetRequiresGrad),
    InstanceMethod("grad", &TensorWrap::Grad),
  });
  auto* data = new InstanceData();
  data->constructor = Napi::Persistent(cls);
  // One constructor per Node environment, so the addon also works inside worker threads.
  env.SetInstanceData<InstanceData>(data);
  return cls;
}

Napi::Object TensorWrap::Wrap(Napi::Env env, torch::Tensor tensor) {
  Napi::Object obj = env.GetInstanceData<InstanceData>()->constructor.New({});
  TensorWrap* self = Napi::ObjectWrap<TensorWrap>::Unwrap(obj);
  self->tensor_ = std::move(tensor);
  self->holds_ = true;
  live_++;
  return obj;
}

bool TensorWrap::IsTensor(const Napi::Value& value) {
  if (!value.IsObject()) return false;
  Napi::Env env = value.Env();
  return value.As<Napi::Object>().InstanceOf(env.GetInstanceData<InstanceData>()->constructor.Value());
}

torch::Tensor& TensorWrap::From(const Napi::Value& value, const char* what) {
  if (!IsTensor(value)) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a tensor");
  TensorWrap* self = Napi::ObjectWrap<TensorWrap>::Unwrap(value.As<Napi::Object>());
  if (!self->holds_) throw Napi::Error::New(value.Env(), std::string(what) + " was already disposed");
  return self->tensor_;
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {}

TensorWrap::~TensorWrap() { Release(); }

void TensorWrap::Release() {
  if (holds_) {
    tensor_ = torch::Tensor();
    holds_ = false;
    live_--;
  }
}

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value TensorWrap::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !holds_);
}

Napi::Value TensorWrap::Shape(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto& t = From(info.This());
    Napi::Array out = Napi::Array::New(info.Env(), t.dim());
    for (int64_t i = 0; i < t.dim(); i++) out.Set(uint32_t(i), Napi::Number::New(info.Env(), double(t.size(i))));
    return out;
  });
}

Napi::Value TensorWrap::DType(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto st = From(info.This()).scalar_type();
    const char* name = st == torch::kFloat32 ? "float32" : st == torch::kBFloat16 ? "bfloat16"
                     : st == torch::kFloat16 ? "float16" : st == torch::kInt64 ? "int64"
                     : st == torch::kBool ? "bool" : c10::toString(st);
    return Napi::String::New(info.Env(), name);
  });
}

Napi::Value TensorWrap::Device(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), From(info.This()).device().str());
  });
}

Napi::Value TensorWrap::ToFloat32Array(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    torch::Tensor t = From(info.This()).detach().to(torch::kCPU, torch::kFloat32).contiguous();
    auto out = Napi::Float32Array::New(info.Env(), size_t(t.numel()));
    std::memcpy(out.Data(), t.data_ptr<float>(), size_t(t.numel()) * sizeof(float));
    return out;
  });
}

Napi::Value TensorWrap::Item(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto& t = From(info.This());
    if (t.numel() != 1) throw Napi::Error::New(info.Env(), "item() needs a tensor with one element");
    return Napi::Number::New(info.Env(), t.item<double>());
  });
}

Napi::Value TensorWrap::RequiresGrad(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), From(info.This()).requires_grad());
  });
}

Napi::Value TensorWrap::SetRequiresGrad(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    From(info.This()).set_requires_grad(OptionalBool(info[0], true));
    return info.This();
  });
}

Napi::Value TensorWrap::Grad(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const torch::Tensor& g = From(info.This()).grad();
    if (!g.defined()) return info.Env().Null();
    return Wrap(info.Env(), g);
  });
}

Napi::Value Guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    // libtorch messages carry a multi-line context; keep the first line.
    std::string msg = e.what_without_backtrace();
    auto nl = msg.find('\n');
    throw Napi::Error::New(info.Env(), "libtorch: " + (nl == std::string::npos ? msg : msg.substr(0, nl)));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("native: ") + e.what());
  }
}

void Export(Napi::Env env, Napi::Object exports, const char* name,
            std::function<Napi::Value(const Napi::CallbackInfo&)> fn) {
  exports.Set(name, Napi::Function::New(env, [fn](const Napi::CallbackInfo& info) -> Napi::Value {
    return Guarded(info, [&]() { return fn(info); });
  }, name));
}

std::vector<int64_t> IntList(const Napi::Value& value, const char* what) {
  if (value.IsNumber()) return {value.As<Napi::Number>().Int64Value()};
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an array of integers");
  Napi::Array arr = value.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an array of integers");
    out[i] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

double Number(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

bool OptionalBool(const Napi::Value& value, bool fallback) {
  return value.IsBoolean() ? value.As<Napi::Boolean>().Value() : fallback;
}

Optional<torch::Tensor> OptionalTensor(const Napi::Value& value) {
  if (value.IsNull() || value.IsUndefined()) return kNone;
  return TensorWrap::From(value);
}

}  // namespace nst
