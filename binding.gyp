{
  # Native engine: a thin N-API layer over libtorch (PyTorch's C++ library).
  # Default: Debian's libtorch-dev (1.13). LIBTORCH=/path/to/libtorch builds against an official
  # libtorch instead: the unpacked zip, or the torch package of a PyTorch wheel (for example a
  # CUDA build); its lib folder is put on the rpath. scripts/libtorch-config.js works out the
  # include paths, the C++ ABI flag and standard that build needs, and whether it has CUDA.
  "variables": {
    "libtorch%": "<!(node scripts/libtorch-config.js prefix)",
    "with_cuda%": "<!(node scripts/libtorch-config.js cuda)",
    "cxx_std%": "<!(node scripts/libtorch-config.js cxx_std)",
    "cxx11_abi%": "<!(node scripts/libtorch-config.js cxx11_abi)"
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
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch-config.js include_dirs)"
      ],
      # node's common.gypi sets the new C++ ABI; torch's own choice replaces it (older wheels: 0).
      "defines!": ["_GLIBCXX_USE_CXX11_ABI=1"],
      # SWALLOW_UNTHROWABLE: when a worker thread is being terminated (process.exit on a second
      # Ctrl-C), an error can no longer reach JavaScript; without it node-addon-api throws a C++
      # exception out of the N-API callback and the process aborts (SIGABRT).
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=<(cxx_std)", "-D_GLIBCXX_USE_CXX11_ABI=<(cxx11_abi)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "conditions": [
        ["libtorch==''", {
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
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
