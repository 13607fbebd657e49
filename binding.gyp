{
  # Native engine: a thin N-API layer over libtorch (PyTorch's C++ library).
  # Default: Debian's libtorch-dev. Set LIBTORCH=/path/to/libtorch to build against an official
  # libtorch instead (for example a CUDA build); its lib folder is put on the rpath.
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "with_cuda%": "<!(node -p \"const p=process.env.LIBTORCH; p && require('fs').existsSync(p + '/lib/libtorch_cuda.so') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "nst_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/tensor_wrap.cc",
        "native/src/ops.cc",
        "native/src/autograd.cc",
        "native/src/runtime.cc",
        "native/src/allocator.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # SWALLOW_UNTHROWABLE: when a worker thread is being terminated (process.exit on a second
      # Ctrl-C), an error can no longer reach JavaScript; without it node-addon-api throws a C++
      # exception out of the N-API callback and the process aborts (SIGABRT).
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "conditions": [
        ["libtorch==''", {
          "include_dirs": ["/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10"]
        }],
        ["with_cuda==1", {
          "defines": ["NST_WITH_CUDA"],
          "libraries": ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
        }]
      ]
    }
  ]
}
