// Differences between the libtorch versions the engine builds against: Debian's 1.13 (the
// default) and official 2.x builds (LIBTORCH=…, e.g. the CUDA libtorch inside a PyTorch wheel).
// Everything version-dependent goes through here, so the rest of native/ reads the same on both.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <optional>

#define NST_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace nst {

// 2.x: torch's signatures take std::optional (c10::optional became an alias in 2.2 and is only
// kept for old code); 1.13: its own c10::optional class.
#if NST_TORCH_AT_LEAST(2, 2)
template <class T>
using Optional = std::optional<T>;
inline constexpr std::nullopt_t kNone = std::nullopt;
#else
template <class T>
using Optional = c10::optional<T>;
inline constexpr c10::nullopt_t kNone = c10::nullopt;
#endif

namespace compat {

// Autocast for one device type. 2.4 replaced the per-device functions (set_cpu_enabled,
// set_enabled, set_autocast_cpu_dtype, set_autocast_gpu_dtype; deprecated, later removed) by
// set_autocast_enabled(device_type, enabled) / set_autocast_dtype(device_type, dtype).
inline void SetAutocast(c10::DeviceType device, bool enabled, at::ScalarType dtype) {
#if NST_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

}  // namespace compat
}  // namespace nst
