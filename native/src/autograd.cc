// Reverse-mode differentiation: backward, explicit gradients, and the (thread-local) grad mode.
#include "tensor_wrap.h"

namespace nst {

void RegisterAutograd(Napi::Env env, Napi::Object e) {
  using Info = Napi::CallbackInfo;
  Export(env, e, "backward", [](const Info& info) {
    TensorWrap::From(info[0]).backward();
    return info.Env().Undefined();
  });
  // gradients(outputs, inputs, gradOutputs?, retainGraph?): vector-Jacobian products
  // Σ gradOutputs[i]·d(outputs[i])/d(inputs) (gradOutputs default to ones), without touching
  // .grad fields. retainGraph keeps the graph for a second pass over the same outputs.
  Export(env, e, "gradients", [](const Info& info) {
    auto list = [&](const Napi::Value& v) {
      if (!v.IsArray()) throw Napi::TypeError::New(info.Env(), "expected an array of tensors");
      std::vector<torch::Tensor> out;
      Napi::Array arr = v.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(TensorWrap::From(arr.Get(i)));
      return out;
    };
    std::vector<torch::Tensor> gradOutputs;
    if (info[2].IsArray()) gradOutputs = list(info[2]);
    bool retain = OptionalBool(info[3], false);
    auto grads = torch::autograd::grad(list(info[0]), list(info[1]), gradOutputs, retain, false, true);
    Napi::Array out = Napi::Array::New(info.Env(), grads.size());
    for (size_t i = 0; i < grads.size(); i++)
      out.Set(uint32_t(i), grads[i].defined() ? TensorWrap::Wrap(info.Env(), grads[i]) : info.Env().Null());
    return out;
  });
  Export(env, e, "zeroGrad", [](const Info& info) {
    auto& t = TensorWrap::From(info[0]);
    t.mutable_grad() = torch::Tensor();
    return info.Env().Undefined();
  });
  // Grad mode is thread-local in libtorch: call this from the thread that computes.
  Export(env, e, "setGradEnabled", [](const Info& info) {
    torch::autograd::GradMode::set_enabled(OptionalBool(info[0], true));
    return info.Env().Undefined();
  });
  Export(env, e, "isGradEnabled", [](const Info& info) {
    return Napi::Boolean::New(info.Env(), torch::autograd::GradMode::is_enabled());
  });
}

}  // namespace nst
