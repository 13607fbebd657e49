// Tensor creation and the differentiable ops the project uses, plus in-place optimiser primitives.
#include "tensor_wrap.h"

namespace nst {
namespace {

using Info = Napi::CallbackInfo;
namespace F = torch::nn::functional;

torch::Tensor& T(const Info& info, size_t i) { return TensorWrap::From(info[i]); }
Napi::Value W(const Info& info, torch::Tensor t) { return TensorWrap::Wrap(info.Env(), std::move(t)); }

torch::Device DeviceArg(const Napi::Value& v) {
  if (!v.IsString()) return torch::Device(torch::kCPU);
  return torch::Device(v.As<Napi::String>().Utf8Value());
}

torch::ScalarType DTypeArg(const Napi::Value& v) {
  std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "float32";
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kFloat16;
  if (name == "int64") return torch::kInt64;
  throw Napi::TypeError::New(v.Env(), "unknown dtype '" + name + "'");
}

Optional<at::Scalar> OptionalNumber(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return kNone;
  return at::Scalar(Number(v, "value"));
}

std::vector<torch::Tensor> TensorList(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<torch::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(TensorWrap::From(arr.Get(i)));
  return out;
}

// Reduction over all elements when dims is missing, else over the given dims.
template <typename All, typename Dims>
Napi::Value Reduce(const Info& info, All all, Dims dims) {
  if (info[1].IsUndefined() || info[1].IsNull()) return W(info, all(T(info, 0)));
  return W(info, dims(T(info, 0), IntList(info[1], "dims"), OptionalBool(info[2], false)));
}

void RegisterUnary(Napi::Env env, Napi::Object e, const char* name, torch::Tensor (*fn)(const torch::Tensor&)) {
  Export(env, e, name, [fn](const Info& info) { return W(info, fn(T(info, 0))); });
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object e) {
  // --- creation and conversion
  Export(env, e, "fromFloat32Array", [](const Info& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(info.Env(), "data must be a Float32Array");
    auto data = info[0].As<Napi::Float32Array>();
    auto shape = IntList(info[1], "shape");
    int64_t n = 1;
    for (auto s : shape) n *= s;
    if (n != int64_t(data.ElementLength()))
      throw Napi::RangeError::New(info.Env(), "shape does not match the number of elements");
    auto t = torch::from_blob(data.Data(), shape, torch::kFloat32).clone();
    return W(info, t.to(DeviceArg(info[2])));
  });
  Export(env, e, "full", [](const Info& info) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(DeviceArg(info[2]));
    return W(info, torch::full(IntList(info[0], "shape"), Number(info[1], "value"), opts));
  });
  Export(env, e, "randn", [](const Info& info) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(DeviceArg(info[1]));
    return W(info, torch::randn(IntList(info[0], "shape"), opts));
  });
  Export(env, e, "rand", [](const Info& info) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(DeviceArg(info[1]));
    return W(info, torch::rand(IntList(info[0], "shape"), opts));
  });
  Export(env, e, "toDevice", [](const Info& info) { return W(info, T(info, 0).to(DeviceArg(info[1]))); });
  Export(env, e, "toDType", [](const Info& info) { return W(info, T(info, 0).to(DTypeArg(info[1]))); });
  Export(env, e, "clone", [](const Info& info) { return W(info, T(info, 0).clone()); });
  Export(env, e, "detach", [](const Info& info) { return W(info, T(info, 0).detach()); });
  Export(env, e, "contiguous", [](const Info& info) {
    bool channelsLast = OptionalBool(info[1], false);
    return W(info, T(info, 0).contiguous(channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
  });

  // --- elementwise
  Export(env, e, "add", [](const Info& info) { return W(info, T(info, 0) + T(info, 1)); });
  Export(env, e, "sub", [](const Info& info) { return W(info, T(info, 0) - T(info, 1)); });
  Export(env, e, "mul", [](const Info& info) { return W(info, T(info, 0) * T(info, 1)); });
  Export(env, e, "div", [](const Info& info) { return W(info, T(info, 0) / T(info, 1)); });
  Export(env, e, "maximum", [](const Info& info) { return W(info, torch::maximum(T(info, 0), T(info, 1))); });
  Export(env, e, "minimum", [](const Info& info) { return W(info, torch::minimum(T(info, 0), T(info, 1))); });
  Export(env, e, "addScalar", [](const Info& info) { return W(info, T(info, 0) + Number(info[1], "scalar")); });
  Export(env, e, "mulScalar", [](const Info& info) { return W(info, T(info, 0) * Number(info[1], "scalar")); });
  Export(env, e, "powScalar", [](const Info& info) { return W(info, torch::pow(T(info, 0), Number(info[1], "exponent"))); });
  Export(env, e, "clamp", [](const Info& info) {
    return W(info, torch::clamp(T(info, 0), OptionalNumber(info[1]), OptionalNumber(info[2])));
  });
  RegisterUnary(env, e, "neg", [](const torch::Tensor& t) { return -t; });
  RegisterUnary(env, e, "relu", [](const torch::Tensor& t) { return torch::relu(t); });
  RegisterUnary(env, e, "tanh", [](const torch::Tensor& t) { return torch::tanh(t); });
  RegisterUnary(env, e, "sigmoid", [](const torch::Tensor& t) { return torch::sigmoid(t); });
  RegisterUnary(env, e, "sqrt", [](const torch::Tensor& t) { return torch::sqrt(t); });
  RegisterUnary(env, e, "abs", [](const torch::Tensor& t) { return torch::abs(t); });
  RegisterUnary(env, e, "exp", [](const torch::Tensor& t) { return torch::exp(t); });
  RegisterUnary(env, e, "log", [](const torch::Tensor& t) { return torch::log(t); });
  RegisterUnary(env, e, "square", [](const torch::Tensor& t) { return torch::square(t); });

  // --- reductions
  Export(env, e, "sum", [](const Info& info) {
    return Reduce(info, [](const torch::Tensor& t) { return t.sum(); },
                  [](const torch::Tensor& t, std::vector<int64_t> d, bool k) { return t.sum(d, k); });
  });
  Export(env, e, "mean", [](const Info& info) {
    return Reduce(info, [](const torch::Tensor& t) { return t.mean(); },
                  [](const torch::Tensor& t, std::vector<int64_t> d, bool k) { return t.mean(d, k); });
  });
  Export(env, e, "variance", [](const Info& info) {
    // variance(t, dims, keepdim, unbiased=false): biased by default, as instance norm uses it.
    bool unbiased = OptionalBool(info[3], false);
    return Reduce(info, [unbiased](const torch::Tensor& t) { return t.var(unbiased); },
                  [unbiased](const torch::Tensor& t, std::vector<int64_t> d, bool k) { return t.var(d, unbiased, k); });
  });
  Export(env, e, "max", [](const Info& info) { return W(info, T(info, 0).max()); });
  Export(env, e, "min", [](const Info& info) { return W(info, T(info, 0).min()); });
  Export(env, e, "norm", [](const Info& info) { return W(info, T(info, 0).norm()); });
  Export(env, e, "dot", [](const Info& info) { return W(info, torch::dot(T(info, 0).reshape(-1), T(info, 1).reshape(-1))); });
  Export(env, e, "mseLoss", [](const Info& info) { return W(info, F::mse_loss(T(info, 0), T(info, 1))); });

  // --- shape
  Export(env, e, "matmul", [](const Info& info) { return W(info, torch::matmul(T(info, 0), T(info, 1))); });
  Export(env, e, "transpose", [](const Info& info) {
    return W(info, T(info, 0).transpose(int64_t(Number(info[1], "dim0")), int64_t(Number(info[2], "dim1"))));
  });
  Export(env, e, "reshape", [](const Info& info) { return W(info, T(info, 0).reshape(IntList(info[1], "shape"))); });
  Export(env, e, "permute", [](const Info& info) { return W(info, T(info, 0).permute(IntList(info[1], "dims"))); });
  Export(env, e, "narrow", [](const Info& info) {
    return W(info, T(info, 0).narrow(int64_t(Number(info[1], "dim")), int64_t(Number(info[2], "start")),
                                     int64_t(Number(info[3], "length"))));
  });
  Export(env, e, "cat", [](const Info& info) { return W(info, torch::cat(TensorList(info[0]), int64_t(Number(info[1], "dim")))); });
  Export(env, e, "stack", [](const Info& info) { return W(info, torch::stack(TensorList(info[0]), int64_t(Number(info[1], "dim")))); });
  // Reductions along one dim that keep the values differentiable (sliced Wasserstein sorts,
  // REMD takes row/column minima); arg-variants return int64 indices (neural-neighbour search).
  Export(env, e, "sortAlong", [](const Info& info) {
    return W(info, std::get<0>(T(info, 0).sort(int64_t(Number(info[1], "dim")), OptionalBool(info[2], false))));
  });
  Export(env, e, "maxAlong", [](const Info& info) {
    return W(info, std::get<0>(T(info, 0).max(int64_t(Number(info[1], "dim")), OptionalBool(info[2], false))));
  });
  Export(env, e, "minAlong", [](const Info& info) {
    return W(info, std::get<0>(T(info, 0).min(int64_t(Number(info[1], "dim")), OptionalBool(info[2], false))));
  });
  Export(env, e, "argmaxAlong", [](const Info& info) {
    return W(info, T(info, 0).argmax(int64_t(Number(info[1], "dim")), OptionalBool(info[2], false)));
  });
  Export(env, e, "logSoftmax", [](const Info& info) {
    return W(info, torch::log_softmax(T(info, 0), int64_t(Number(info[1], "dim"))));
  });
  Export(env, e, "indexSelectBy", [](const Info& info) {
    auto& t = T(info, 0);
    auto idx = T(info, 2).to(t.device(), torch::kInt64);
    return W(info, t.index_select(int64_t(Number(info[1], "dim")), idx.reshape(-1)));
  });
  Export(env, e, "flip", [](const Info& info) { return W(info, T(info, 0).flip(IntList(info[1], "dims"))); });
  Export(env, e, "indexSelect", [](const Info& info) {
    auto& t = T(info, 0);
    auto idx = torch::tensor(IntList(info[2], "indices"), torch::TensorOptions().dtype(torch::kInt64).device(t.device()));
    return W(info, t.index_select(int64_t(Number(info[1], "dim")), idx));
  });

  // --- neural network layers (NCHW)
  Export(env, e, "conv2d", [](const Info& info) {
    auto stride = info[3].IsUndefined() ? std::vector<int64_t>{1} : IntList(info[3], "stride");
    auto padding = info[4].IsUndefined() ? std::vector<int64_t>{0} : IntList(info[4], "padding");
    // groups: depthwise convolution (groups = channels) for separable convs.
    int64_t groups = info[5].IsUndefined() ? 1 : int64_t(Number(info[5], "groups"));
    return W(info, torch::conv2d(T(info, 0), T(info, 1), OptionalTensor(info[2]), stride, padding, {1}, groups));
  });
  Export(env, e, "convTranspose2d", [](const Info& info) {
    auto stride = info[3].IsUndefined() ? std::vector<int64_t>{1} : IntList(info[3], "stride");
    auto padding = info[4].IsUndefined() ? std::vector<int64_t>{0} : IntList(info[4], "padding");
    auto outPad = info[5].IsUndefined() ? std::vector<int64_t>{0} : IntList(info[5], "outputPadding");
    return W(info, torch::conv_transpose2d(T(info, 0), T(info, 1), OptionalTensor(info[2]), stride, padding, outPad));
  });
  Export(env, e, "maxPool2d", [](const Info& info) {
    auto k = IntList(info[1], "kernel");
    auto s = info[2].IsUndefined() ? k : IntList(info[2], "stride");
    auto p = info[3].IsUndefined() ? std::vector<int64_t>{0} : IntList(info[3], "padding");
    return W(info, torch::max_pool2d(T(info, 0), k, s, p));
  });
  Export(env, e, "avgPool2d", [](const Info& info) {
    auto k = IntList(info[1], "kernel");
    auto s = info[2].IsUndefined() ? k : IntList(info[2], "stride");
    auto p = info[3].IsUndefined() ? std::vector<int64_t>{0} : IntList(info[3], "padding");
    return W(info, torch::avg_pool2d(T(info, 0), k, s, p));
  });
  Export(env, e, "pad", [](const Info& info) {
    // pads: [left, right, top, bottom] as torch.nn.functional.pad; mode constant|reflect|replicate
    std::string mode = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "constant";
    auto opts = F::PadFuncOptions(IntList(info[1], "pads"));
    if (mode == "reflect") opts = opts.mode(torch::kReflect);
    else if (mode == "replicate") opts = opts.mode(torch::kReplicate);
    else if (mode == "constant") opts = opts.mode(torch::kConstant).value(info[3].IsNumber() ? Number(info[3], "value") : 0.0);
    else throw Napi::TypeError::New(info.Env(), "unknown pad mode '" + mode + "'");
    return W(info, F::pad(T(info, 0), opts));
  });
  Export(env, e, "interpolate", [](const Info& info) {
    // Resize NCHW to size [h, w]; mode nearest|bilinear|bicubic|area.
    std::string mode = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "bilinear";
    auto opts = F::InterpolateFuncOptions().size(IntList(info[1], "size"));
    if (mode == "nearest") opts = opts.mode(torch::kNearest);
    else if (mode == "bilinear") opts = opts.mode(torch::kBilinear).align_corners(OptionalBool(info[3], false));
    else if (mode == "bicubic") opts = opts.mode(torch::kBicubic).align_corners(OptionalBool(info[3], false));
    else if (mode == "area") opts = opts.mode(torch::kArea);
    else throw Napi::TypeError::New(info.Env(), "unknown interpolation mode '" + mode + "'");
    return W(info, F::interpolate(T(info, 0), opts));
  });

  // instanceNorm(x, weight, bias, eps): per-sample, per-channel normalisation (biased variance)
  // with a learned scale and shift, fused in one libtorch op.
  Export(env, e, "instanceNorm", [](const Info& info) {
    const torch::Tensor& x = T(info, 0);
    const double eps = Number(info[3], "eps");
    // With one sample, instance norm is batch norm in training mode (statistics over H×W per
    // channel). batch_norm keeps channels-last layouts and has a channels-last CPU kernel, where
    // instance_norm first copies its input to NCHW.
    if (x.dim() == 4 && x.size(0) == 1)
      return W(info, torch::batch_norm(x, OptionalTensor(info[1]), OptionalTensor(info[2]), {}, {}, true, 0.0, eps, false));
    return W(info, torch::instance_norm(x, OptionalTensor(info[1]), OptionalTensor(info[2]), {}, {}, true, 0.0, eps, false));
  });

  // --- in-place optimiser primitives (never recorded by autograd)
  Export(env, e, "addInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).add_(T(info, 1), info[2].IsNumber() ? Number(info[2], "alpha") : 1.0);
    return info.Env().Undefined();
  });
  Export(env, e, "mulScalarInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).mul_(Number(info[1], "scalar"));
    return info.Env().Undefined();
  });
  Export(env, e, "addcmulInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).addcmul_(T(info, 1), T(info, 2), Number(info[3], "value"));
    return info.Env().Undefined();
  });
  Export(env, e, "addcdivInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).addcdiv_(T(info, 1), T(info, 2), Number(info[3], "value"));
    return info.Env().Undefined();
  });
  Export(env, e, "copyInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).copy_(T(info, 1));
    return info.Env().Undefined();
  });
  Export(env, e, "fillInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).fill_(Number(info[1], "value"));
    return info.Env().Undefined();
  });
  Export(env, e, "clampInPlace", [](const Info& info) {
    torch::NoGradGuard ng;
    T(info, 0).clamp_(OptionalNumber(info[1]), OptionalNumber(info[2]));
    return info.Env().Undefined();
  });
}

}  // namespace nst
