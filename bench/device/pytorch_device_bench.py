#!/usr/bin/env python3
"""PyTorch's half of scripts/device-check.sh: the same objective, weights and sizes as
bench/device/device-bench.ts, on the same device, JSON on stdout.

Parity: reads the inputs and the engine's losses and gradient that device-bench wrote to --work
(256², fp32, TF32 off) and compares them with PyTorch's. Speed (PyTorch's default math, cuDNN
benchmark on, as the engine's run): fwd+grad at --sizes; a whole run of --iterations with
torch.optim.LBFGS (history 100, lr 1, no line search: the optimiser nst's L-BFGS follows) at 512²;
a Johnson et al. transformer (reflect padding, nearest upsampling, instance norm: the shapes of
nst's training network) stylising 512² and 1024²; one training step at 256², batch 4 (transformer
+ VGG19 perceptual loss + backward + Adam). Milliseconds, median of --repeats after a warm-up.

Usage: pytorch_device_bench.py --device cuda --model-dir DIR --work DIR [--sizes 512,1024]
       [--iterations 500] [--repeats 5] [--fast-sizes 512,1024] [--train-size 256] [--threads N]
"""
import argparse, json, os, time
import torch
import torch.nn.functional as F

CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512]
# relu index (1-based, in order) → name
RELU_NAMES = ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu3_4',
              'relu4_1', 'relu4_2', 'relu4_3', 'relu4_4', 'relu5_1']
STYLE = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']
CONTENT = ['relu4_2']
W_CONTENT, W_STYLE, W_TV = 5.0, 100.0, 1e-3
CAFFE_MEAN_BGR = [103.939, 116.779, 123.68]


def load_vgg(model_dir, device):
    """The TF.js layers model written by random-vgg19.ts: kernels HWIO → OIHW."""
    d = os.path.join(model_dir, 'vgg19')
    manifest = json.load(open(os.path.join(d, 'model.json')))['weightsManifest'][0]
    raw = b''.join(open(os.path.join(d, p), 'rb').read() for p in manifest['paths'])
    flat = torch.frombuffer(bytearray(raw), dtype=torch.float32)
    tensors, offset = {}, 0
    for w in manifest['weights']:
        n = 1
        for s in w['shape']:
            n *= s
        tensors[w['name']] = flat[offset:offset + n].reshape(w['shape'])
        offset += n
    convs, block, index = [], 1, 1
    for v in CFG:
        if v == 'M':
            block, index = block + 1, 1
            continue
        k = tensors[f'block{block}_conv{index}/kernel'].permute(3, 2, 0, 1).contiguous().to(device)
        b = tensors[f'block{block}_conv{index}/bias'].to(device)
        convs.append((k, b))
        index += 1
    return convs


def features(x, convs, wanted):
    out, wi, ri = {}, 0, 0
    last = max(RELU_NAMES.index(n) for n in wanted)
    for v in CFG:
        if v == 'M':
            x = F.max_pool2d(x, 2)
            continue
        w, b = convs[wi]
        wi += 1
        x = torch.relu(F.conv2d(x, w, b, padding=1))
        name = RELU_NAMES[ri]
        ri += 1
        if name in wanted:
            out[name] = x
        if ri > last:
            break
    return out


def preprocess(rgb):
    mean = torch.tensor(CAFFE_MEAN_BGR, device=rgb.device).reshape(1, 3, 1, 1)
    return rgb[:, [2, 1, 0]] * 255 - mean


def gram(f):
    _, c, h, w = f.shape
    f = f.reshape(c, h * w)
    return f @ f.t() / (c * h * w)


def tv(x):
    return ((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()


class Objective:
    """nst's default Gatys objective (src/losses: mean-normalised, weights 5 / 100 / 1e-3)."""

    def __init__(self, convs, content, style):
        self.convs = convs
        with torch.no_grad():
            self.p = {k: v for k, v in features(content, convs, CONTENT).items()}
            self.a = {k: gram(v) for k, v in features(style, convs, STYLE).items()}

    def terms(self, x):
        f = features(x, self.convs, CONTENT + STYLE)
        t = {f'content.{k}': W_CONTENT * F.mse_loss(f[k], self.p[k]) for k in CONTENT}
        t.update({f'style.{k}': W_STYLE * F.mse_loss(gram(f[k]), self.a[k]) for k in STYLE})
        t['tv'] = W_TV * tv(x)
        t['total'] = sum(t.values())
        return t


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_ms(device, repeats, fn):
    fn()
    sync(device)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        runs.append((time.perf_counter() - t0) * 1000)
    runs.sort()
    return {'median': float(f'{runs[len(runs) // 2]:.4g}'), 'min': float(f'{runs[0]:.4g}')}


def seeded_like(size, seed, device):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g).to(device)


def parity(args, device, convs):
    engine = json.load(open(os.path.join(args.work, 'engine-losses.json')))
    size = engine['size']
    read = lambda name: torch.frombuffer(bytearray(open(os.path.join(args.work, name), 'rb').read()), dtype=torch.float32)
    content = preprocess(read('content.bin').reshape(1, 3, size, size).to(device))
    style = preprocess(read('style.bin').reshape(1, 3, size, size).to(device))
    engine_grad = read('engine-grad.bin').to(device)
    obj = Objective(convs, content, style)
    x = content.clone().requires_grad_(True)
    t = obj.terms(x)
    t['total'].backward()
    losses = {k: v.item() for k, v in t.items()}
    loss_err = max(abs(engine['losses'][k] - v) / max(abs(v), 1e-12) for k, v in losses.items())
    g = x.grad.reshape(-1)
    grad_err = ((engine_grad - g).abs().max() / g.abs().max()).item()
    return {'size': size, 'tf32': False, 'pytorchLosses': losses, 'engineLosses': engine['losses'],
            'lossMaxRelErr': float(f'{loss_err:.3g}'), 'gradMaxRelErr': float(f'{grad_err:.3g}'),
            'pass': loss_err <= 1e-3 and grad_err <= 1e-3}


class Transformer(torch.nn.Module):
    """Johnson et al. 2016 with reflect padding, nearest upsampling and instance norm."""

    def __init__(self):
        super().__init__()
        def conv(cin, cout, k, stride=1, norm=True, bias=False):
            layers = [torch.nn.ReflectionPad2d(k // 2), torch.nn.Conv2d(cin, cout, k, stride, bias=bias)]
            if norm:
                layers.append(torch.nn.InstanceNorm2d(cout, affine=True, eps=1e-5))
            return torch.nn.Sequential(*layers)
        self.head = torch.nn.ModuleList([conv(3, 32, 9), conv(32, 64, 3, 2), conv(64, 128, 3, 2)])
        self.res = torch.nn.ModuleList([torch.nn.ModuleList([conv(128, 128, 3), conv(128, 128, 3)]) for _ in range(5)])
        self.up = torch.nn.ModuleList([conv(128, 64, 3), conv(64, 32, 3)])
        self.out = conv(32, 3, 9, norm=False, bias=True)

    def forward(self, x):
        h = x * 255
        for layer in self.head:
            h = torch.relu(layer(h))
        for a, b in self.res:
            h = h + b(torch.relu(a(h)))
        for layer in self.up:
            h = torch.relu(layer(F.interpolate(h, scale_factor=2, mode='nearest')))
        return torch.tanh(self.out(h)) * (150 / 255) + 127.5 / 255


def speed(args, device, convs):
    result = {'fwdGradMs': {}}
    for size in args.sizes:
        obj = Objective(convs, preprocess(seeded_like(size, 21, device)), preprocess(seeded_like(size, 22, device)))
        x = preprocess(seeded_like(size, 21, device)).requires_grad_(True)
        def step():
            x.grad = None
            t = obj.terms(x)
            t['total'].backward()
            # the engine reads its loss values back every evaluation; so does this
            return {k: v.item() for k, v in t.items()}
        result['fwdGradMs'][str(size)] = time_ms(device, args.repeats, step)

    obj = Objective(convs, preprocess(seeded_like(512, 31, device)), preprocess(seeded_like(512, 32, device)))
    x = preprocess(seeded_like(512, 31, device)).requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=args.iterations, max_eval=args.iterations, history_size=100,
                            tolerance_grad=-1, tolerance_change=-1)
    evaluations = [0]
    def closure():
        opt.zero_grad()
        loss = obj.terms(x)['total']
        loss.backward()
        evaluations[0] += 1
        return loss
    sync(device)
    t0 = time.perf_counter()
    final = opt.step(closure)
    sync(device)
    seconds = time.perf_counter() - t0
    result['run512'] = {'iterations': args.iterations, 'evaluations': evaluations[0], 'seconds': float(f'{seconds:.4g}'),
                        'msPerIteration': float(f'{seconds * 1000 / args.iterations:.4g}'), 'finalLoss': float(final)}

    torch.manual_seed(7)
    net = Transformer().to(device).eval()
    result['fastStyliseMs'] = {}
    with torch.no_grad():
        for size in args.fast_sizes:
            photo = seeded_like(size, 41, device)
            result['fastStyliseMs'][str(size)] = time_ms(device, args.repeats, lambda: net(photo).clamp(0, 1))

    student = Transformer().to(device).train()
    adam = torch.optim.Adam(student.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    content_layers, style_layers = ['relu2_2'], ['relu1_1', 'relu2_1', 'relu3_1']
    with torch.no_grad():
        sf = features(preprocess(seeded_like(args.train_size, 51, device)), convs, style_layers)
        style_grams = {k: gram_batch(v) for k, v in sf.items()}
    ts = args.train_size
    batch = (torch.arange(4 * 3 * ts * ts, dtype=torch.float32) % 97 / 97).reshape(4, 3, ts, ts)
    def train_step():
        x = batch.to(device)  # the engine uploads each batch too
        y = student(x)
        with torch.no_grad():
            target = features(preprocess(x), convs, content_layers)
        yc = preprocess(y)
        f = features(yc, convs, content_layers + style_layers)
        content = sum(((f[k] - target[k]) ** 2).mean() for k in content_layers)
        style = sum(((gram_batch(f[k]) - style_grams[k]) ** 2).mean() for k in style_layers)
        total = 1.0 * content + 5.0 * style + (1e-5 / 4) * tv(yc)
        adam.zero_grad()
        total.backward()
        adam.step()
        return total.item()
    result['trainStepBatch4Ms'] = {'size': ts, **time_ms(device, args.repeats, train_step)}
    return result


def gram_batch(f):
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--model-dir', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--sizes', default='512,1024')
    ap.add_argument('--iterations', type=int, default=500)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--fast-sizes', default='512,1024')
    ap.add_argument('--train-size', type=int, default=256)
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(',')]
    args.fast_sizes = [int(s) for s in args.fast_sizes.split(',')]
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    convs = load_vgg(args.model_dir, device)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    parity_result = parity(args, device, convs)
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's defaults for the timings
    report = {'torch': torch.__version__, 'device': str(device),
              'gpu': torch.cuda.get_device_name(device) if device.type == 'cuda' else None,
              'threads': torch.get_num_threads(), 'cudnnBenchmark': True,
              'parity': parity_result, 'speed': speed(args, device, convs)}
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
