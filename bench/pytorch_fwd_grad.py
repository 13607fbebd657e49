#!/usr/bin/python3
"""PyTorch side of `npm run bench`: one VGG19 forward + input gradient with the default Gatys losses.

Usage: pytorch_fwd_grad.py SIZES REPEATS THREADS  -> JSON on stdout. Random weights of VGG19's
shapes (speed does not depend on the values); same layers, losses and sizes as bench.ts.
"""
import json, resource, sys, time
import torch
import torch.nn.functional as F

CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512]
STYLE = {1, 3, 5, 9, 13}  # indices (in relu order) of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
CONTENT = 10              # relu4_2

def features(x, weights):
    out, relu_index, wi = {}, 0, 0
    for v in CFG:
        if v == 'M':
            x = F.max_pool2d(x, 2)
        else:
            w, b = weights[wi]; wi += 1
            x = torch.relu(F.conv2d(x, w, b, padding=1)); relu_index += 1
            if relu_index in STYLE or relu_index == CONTENT:
                out[relu_index] = x
    return out

def gram(f):
    _, c, h, w = f.shape
    f = f.reshape(c, h * w)
    return f @ f.t() / (c * h * w)

def main():
    sizes = [int(s) for s in sys.argv[1].split(',')]
    repeats, threads = int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    weights, cin = [], 3
    for v in CFG:
        if v != 'M':
            weights.append((torch.randn(v, cin, 3, 3) * 0.05, torch.zeros(v))); cin = v
    result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'sizes': []}
    for size in sizes:
        content, style = torch.rand(1, 3, size, size) * 255, torch.rand(1, 3, size, size) * 255
        with torch.no_grad():
            p = features(content, weights)[CONTENT]
            a = {k: gram(v) for k, v in features(style, weights).items() if k in STYLE}
        x = content.clone().requires_grad_(True)
        def step():
            f = features(x, weights)
            loss = 5 * F.mse_loss(f[CONTENT], p) + sum(100 * F.mse_loss(gram(f[k]), a[k]) for k in STYLE)
            loss = loss + 1e-3 * (((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum())
            x.grad = None
            loss.backward()
        step()
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter(); step(); runs.append(time.perf_counter() - t0)
        runs.sort()
        result['sizes'].append({'size': size, 'fwdGradSeconds': {'median': round(runs[len(runs) // 2], 4), 'min': round(runs[0], 4)}})
    # ru_maxrss is in KiB on Linux; the last (largest) size dominates the peak
    result['peakRssMiB'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))

if __name__ == '__main__':
    main()
