#!/usr/bin/python3
"""PyTorch side of the bench's time to quality: neural-style-pt's optimisation, timed.

Usage: pytorch_lbfgs_run.py VGG_DIR INPUT_DIR ITERATIONS THREADS -> JSON on stdout.
INPUT_DIR holds content.f32 and style.f32 (preprocessed images, Caffe convention, float32 NCHW, shapes
in shapes.json), written by bench.ts so both sides optimise exactly the same problem; this script
writes result.f32 there (the optimised image, unclamped: bench.ts saves and scores it as a file).
Optimiser: torch.optim.LBFGS(lr=1, history_size=100, no line search, tolerances -1), max_iter =
ITERATIONS in one step() call, from the content image: neural-style-pt's settings. Losses: the
project's loss contract (content relu4_2 x5, style relu1_1..relu5_1 x100, tv 1e-3).
"""
import json, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512]
STYLE = {1, 3, 5, 9, 13}  # relu indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
CONTENT = 10              # relu4_2


def load_weights(vgg_dir):
    m = json.load(open(os.path.join(vgg_dir, 'model.json')))
    group = m['weightsManifest'][0]
    buf = b''.join(open(os.path.join(vgg_dir, p), 'rb').read() for p in group['paths'])
    arr, off, named = np.frombuffer(buf, dtype='<f4'), 0, {}
    for spec in group['weights']:
        n = int(np.prod(spec['shape']))
        named[spec['name']] = torch.from_numpy(arr[off:off + n].reshape(spec['shape']).copy())
        off += n
    weights, block, conv = [], 1, 1
    for v in CFG:
        if v == 'M':
            block, conv = block + 1, 1
            continue
        k = named[f'block{block}_conv{conv}/kernel']  # HWIO
        b = named[f'block{block}_conv{conv}/bias']
        weights.append((k.permute(3, 2, 0, 1).contiguous(), b))
        conv += 1
    return weights


def features(x, weights):
    out, relu_index, wi = {}, 0, 0
    for v in CFG:
        if v == 'M':
            x = F.max_pool2d(x, 2)
        else:
            w, b = weights[wi]
            wi += 1
            x = torch.relu(F.conv2d(x, w, b, padding=1))
            relu_index += 1
            if relu_index in STYLE or relu_index == CONTENT:
                out[relu_index] = x
    return out


def gram(f):
    _, c, h, w = f.shape
    f = f.reshape(c, h * w)
    return f @ f.t() / (c * h * w)


def main():
    vgg_dir, input_dir, iterations, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    shapes = json.load(open(os.path.join(input_dir, 'shapes.json')))
    read = lambda name: torch.from_numpy(np.fromfile(os.path.join(input_dir, name + '.f32'), dtype='<f4').reshape(shapes[name]).copy())
    content, style = read('content'), read('style')
    weights = load_weights(vgg_dir)
    with torch.no_grad():
        p = features(content, weights)[CONTENT]
        a = {k: gram(v) for k, v in features(style, weights).items() if k in STYLE}
    x = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([x], lr=1, max_iter=iterations, history_size=100, tolerance_grad=-1, tolerance_change=-1)
    losses = []

    def closure():
        optimizer.zero_grad()
        f = features(x, weights)
        loss = 5 * F.mse_loss(f[CONTENT], p) + sum(100 * F.mse_loss(gram(f[k]), a[k]) for k in STYLE)
        loss = loss + 1e-3 * (((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum())
        loss.backward()
        losses.append(loss.item())
        return loss

    t0 = time.perf_counter()
    optimizer.step(closure)
    seconds = time.perf_counter() - t0
    x.detach().numpy().astype('<f4').tofile(os.path.join(input_dir, 'result.f32'))
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'iterations': len(losses),
                      'seconds': round(seconds, 3), 'firstLoss': losses[0], 'finalInternalLoss': losses[-1],
                      'maxLoss': max(losses)}))


if __name__ == '__main__':
    main()
