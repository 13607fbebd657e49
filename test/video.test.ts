/**
 * `nst video`: optical flow against known motion, the occlusion mask on a synthetic occluder,
 * flicker reduction of both methods, audio/frame rate/aspect kept, resume after an interrupted
 * run, and the bad inputs. Clips are made here with ffmpeg from the shared photos (1-second
 * pans, ≤ 112 px); the tests skip with a message when ffmpeg is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureThread } from '../src/engine';
import { loadImage, RgbImage } from '../src/image';
import { Vgg19 } from '../src/models/vgg19';
import { loadStyleModel } from '../src/models/style-model-format';
import { resolveStyle } from '../src/transfer/fast/styles';
import { resolveStylizeOptions } from '../src/transfer/gatys/options';
import {
  computeFlow,
  consistencyMasks,
  decodeFrames,
  loadOpenCv,
  probeVideo,
  stylizeVideo,
  meanStyleLoss,
  photometricCertainty,
  temporalWarpingError,
  warpImage,
  toGrey,
  VideoProgress,
} from '../src/video';
import { VIDEO_DEFAULTS } from '../src/video/options';
import { FastPainter } from '../src/video/fast-painter';
import { OptimisationPainter } from '../src/video/optimisation-painter';
import { TemporalSequencer } from '../src/video/sequencer';
import { constantFlow, endpointError, resample, syntheticPan, syntheticRotation } from '../src/video/synthetic';
import { SHARED_DIR } from './helpers/reference';
import { ffmpeg, HAS_FFMPEG, needsFfmpeg } from './helpers/ffmpeg';

const NST = path.resolve(__dirname, '..', '..', 'bin', 'nst.js');
const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg');
let tmp: string;
const t = (...p: string[]) => path.join(tmp, ...p);


/**
 * A 1-second, 12 fps pan over the photo: a 112x64 window moving right by 2 px per frame (so the
 * backward flow is +2 px), with a 440 Hz tone.
 */
function makePanClip(file: string): void {
  ffmpeg(
    '-framerate', '12', '-loop', '1', '-i', PHOTO, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-filter_complex', "[0:v]scale=-2:96,crop=112:64:x='2*n':y=16,format=yuv420p[v]",
    '-map', '[v]', '-map', '1:a', '-r', '12', '-t', '1', '-c:v', 'libx264', '-crf', '10', '-c:a', 'aac', file,
  );
}

function nst(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [NST, ...args, '--threads', '1'], { encoding: 'utf8', env: { ...env, NST_DEBUG: '' } });
}

function streams(file: string): { codec_type: string; width?: number; height?: number; avg_frame_rate?: string; nb_frames?: string; duration?: string }[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', file], { encoding: 'utf8' });
  return JSON.parse(r.stdout).streams;
}

async function readFrames(dir: string): Promise<RgbImage[]> {
  const files = fs.readdirSync(dir).filter((f) => /^frame_\d+\.png$/.test(f)).sort();
  return Promise.all(files.map((f) => loadImage(path.join(dir, f))));
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-video-'));
  // One thread: the test machine is shared, and oversubscribed OpenMP threads wait on each other.
  configureThread({ threads: 1 });
  if (HAS_FFMPEG) makePanClip(t('pan.mp4'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('optical flow and consistency masks', () => {
  test('Farnebäck flow matches known shifts and a rotation', async () => {
    const cv = await loadOpenCv();
    const photo = await loadImage(PHOTO, { width: 180 });
    const base = resample(photo, 128, 72, (x, y) => [x + 20, y + 20]);
    for (const [dx, dy] of [[2, 0], [2.5, -1.25], [5.5, 2]]) {
      const moved = resample(photo, 128, 72, (x, y) => [x + 20 + dx, y + 20 + dy]);
      const e = endpointError(computeFlow(cv, toGrey(moved), toGrey(base)), constantFlow(128, 72, dx, dy));
      assert.ok(e.median < 0.3, `shift (${dx}, ${dy}): median endpoint error ${e.median.toFixed(3)} px`);
      assert.ok(e.mean < 0.25 * Math.hypot(dx, dy) + 0.3, `shift (${dx}, ${dy}): mean endpoint error ${e.mean.toFixed(3)} px`);
    }
    const rot = syntheticRotation(base, 2);
    const e = endpointError(computeFlow(cv, toGrey(rot.frame), toGrey(base)), rot.backward);
    assert.ok(e.median < 0.3, `rotation: median endpoint error ${e.median.toFixed(3)} px`);
  });

  test('flow on frames decoded from an ffmpeg pan recovers its 2 px/frame', needsFfmpeg, async () => {
    const cv = await loadOpenCv();
    const frames: RgbImage[] = [];
    for await (const f of decodeFrames(t('pan.mp4'), { width: 112, height: 64 })) frames.push(f);
    assert.equal(frames.length, 12);
    const flow = computeFlow(cv, toGrey(frames[6]), toGrey(frames[5]));
    const e = endpointError(flow, constantFlow(112, 64, 2, 0));
    assert.ok(e.median < 0.3, `median endpoint error ${e.median.toFixed(3)} px`);
  });

  test('the forward–backward check marks what a moving occluder uncovers, and nothing in the still background', async () => {
    const cv = await loadOpenCv();
    const background = await loadImage(PHOTO, { width: 128, height: 96 });
    const occluder = await loadImage(path.join(SHARED_DIR, 'images', 'style', 'starry_night.jpg'), { width: 32, height: 32 });
    // A textured 32x32 square over a still background, at x = 40 in frame 0 and x = 48 in frame 1.
    const compose = () => resample(background, 128, 96, (x, y) => [x, y]);
    const frames = [40, 48].map((left) => {
      const img = compose();
      const n = 128 * 96;
      for (let y = 32; y < 64; y++) for (let x = left; x < left + 32; x++) for (let k = 0; k < 3; k++) img.data[k * n + y * 128 + x] = occluder.data[k * 1024 + (y - 32) * 32 + (x - left)];
      return img;
    });
    const [g0, g1] = frames.map(toGrey);
    const masks = consistencyMasks(computeFlow(cv, g1, g0, { maxSide: 0 }), computeFlow(cv, g0, g1, { maxSide: 0 }));
    const flagged = (x0: number, x1: number, y0: number, y1: number) => {
      let bad = 0, n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, n++) bad += masks.certainty[y * 128 + x] === 0 ? 1 : 0;
      return bad / n;
    };
    // Uncovered in frame 1: x 40–47 (background hidden by the square in frame 0). Farnebäck's
    // window smooths the square's motion over the strip, so the flagged band sits up to a
    // window's width (≈10 px) to its left: look at x 28–47.
    assert.ok(flagged(28, 48, 36, 60) > 0.4, `trailing edge flagged ${flagged(28, 48, 36, 60).toFixed(2)}`);
    let occluded = 0;
    for (let y = 36; y < 60; y++) for (let x = 28; x < 48; x++) occluded += masks.occluded[y * 128 + x];
    assert.ok(occluded > 0.25 * 20 * 24, `occluded pixels at the trailing edge: ${occluded}`);
    // The square's inside and the still background far from it are reliable.
    assert.ok(flagged(58, 70, 38, 58) < 0.1, `inside of the square flagged ${flagged(58, 70, 38, 58).toFixed(2)}`);
    assert.ok(flagged(100, 120, 8, 88) < 0.05, `background flagged ${flagged(100, 120, 8, 88).toFixed(2)}`);
    assert.ok(flagged(4, 20, 8, 88) < 0.05, `background flagged ${flagged(4, 20, 8, 88).toFixed(2)}`);
  });
});

describe('warping and the photometric certainty', () => {
  const noise = (w: number, h: number, seed: number): RgbImage => {
    let s = seed;
    const data = new Float32Array(3 * w * h).map(() => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
    return { width: w, height: h, data };
  };
  const variance = (img: RgbImage, margin: number) => {
    const vals: number[] = [];
    for (let y = margin; y < img.height - margin; y++) for (let x = margin; x < img.width - margin; x++) vals.push(img.data[y * img.width + x]);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    return vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
  };

  test('Lanczos-3 moves by whole pixels exactly and keeps the most texture over repeated half-pixel warps', () => {
    const img = noise(48, 40, 7);
    const shifted = warpImage(img, constantFlow(48, 40, 3, -2), 'lanczos');
    for (let y = 4; y < 36; y++) for (let x = 4; x < 40; x++) assert.ok(Math.abs(shifted.data[y * 48 + x] - img.data[(y - 2) * 48 + x + 3]) < 1e-6);
    // A stylised frame is warped once per frame: 8 half-pixel warps soften its strokes least with Lanczos.
    const kept = (interpolation: 'bilinear' | 'cubic' | 'lanczos') => {
      let out = img;
      for (let i = 0; i < 8; i++) out = warpImage(out, constantFlow(48, 40, i % 2 ? -0.5 : 0.5, 0), interpolation);
      return variance(out, 8) / variance(img, 8);
    };
    const [bilinear, cubic, lanczos] = [kept('bilinear'), kept('cubic'), kept('lanczos')];
    assert.ok(lanczos > cubic && cubic > bilinear, `texture kept: bilinear ${bilinear.toFixed(3)}, cubic ${cubic.toFixed(3)}, lanczos ${lanczos.toFixed(3)}`);
    assert.ok(lanczos > 0.45, `Lanczos keeps ${lanczos.toFixed(3)} of the variance`);
  });

  test('photometric certainty: 1 where the warped previous frame matches, low where the content changed under an agreeing flow', () => {
    const previous = noise(64, 48, 11);
    const frame = warpImage(previous, constantFlow(64, 48, 2, 0)); // the content moved left by 2 px
    const n = 64 * 48;
    // A "blink": a 12×12 patch changes in place, where any flow still says "moved by 2 px".
    for (let y = 20; y < 32; y++) for (let x = 24; x < 36; x++) for (let k = 0; k < 3; k++) frame.data[k * n + y * 64 + x] = 1 - frame.data[k * n + y * 64 + x];
    const certainty = photometricCertainty(frame, previous, constantFlow(64, 48, 2, 0));
    const mean = (x0: number, x1: number, y0: number, y1: number) => {
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += certainty[y * 64 + x];
      return s / ((x1 - x0) * (y1 - y0));
    };
    assert.ok(mean(4, 20, 4, 44) > 0.999, `unchanged part ${mean(4, 20, 4, 44)}`);
    assert.ok(mean(24, 36, 20, 32) < 0.05, `changed patch ${mean(24, 36, 20, 32)}`);
    // With the wrong flow (none), the moved texture does not match either.
    assert.ok(photometricCertainty(frame, previous, constantFlow(64, 48, 0, 0)).slice(0, 64 * 16).reduce((a, b) => a + b, 0) / (64 * 16) < 0.2);
  });
});

describe('flicker', () => {
  test('optimisation (Ruder et al.): warped start + temporal loss at least halve the warping error', async () => {
    const photo = await loadImage(PHOTO, { width: 80 });
    const clip = syntheticPan(photo, 64, 36, 3, 1.25);
    const stylePath = path.join(SHARED_DIR, 'images', 'style', 'starry_night.jpg');
    const gatys = resolveStylizeOptions({ content: PHOTO, style: stylePath, output: 'x.png', size: 64, iterations: 16, seed: 3, precision: 'fp32' });
    const styles = [await loadImage(stylePath, { maxSide: 64 })];
    const net = Vgg19.load({ upTo: 'relu5_1' });
    try {
      const paint = async (consistent: boolean) => {
        const painter = new OptimisationPainter(net, { gatys, styles, iterations: 16, frameIterations: consistent ? 6 : 16, temporalWeight: consistent ? 50 : 0, device: 'cpu' });
        const sequencer = await TemporalSequencer.create(painter, consistent);
        const out: RgbImage[] = [];
        for (const f of clip.frames) out.push((await sequencer.next(f))!.image);
        return out;
      };
      const perFrame = temporalWarpingError(await paint(false), clip.backward);
      const consistent = temporalWarpingError(await paint(true), clip.backward);
      assert.ok(consistent < 0.5 * perFrame, `warping error ${consistent.toFixed(4)} consistent vs ${perFrame.toFixed(4)} per frame`);
    } finally {
      net.dispose();
    }
  });

  test('fast network: the default blend halves the warping error and keeps the style loss within 10 %', async () => {
    const photo = await loadImage(PHOTO, { width: 280 });
    // The bench's clip (256×144, 2.5 px per frame); udnie (wave, in the bench: −52 % / +8.5 %).
    const clip = syntheticPan(photo, 256, 144, 8, 2.5);
    const model = loadStyleModel(resolveStyle('udnie').path);
    try {
      const paint = async (blend: { coarse: number; detail: number }) => {
        const sequencer = await TemporalSequencer.create(new FastPainter(model.net, { blend, preserveColors: 'none' }), blend.coarse > 0);
        const out: RgbImage[] = [];
        for (const f of clip.frames) out.push((await sequencer.next(f))!.image);
        return out;
      };
      const perFrame = await paint({ coarse: 0, detail: 0 });
      const consistent = await paint({ coarse: VIDEO_DEFAULTS.blend, detail: VIDEO_DEFAULTS.detailBlend });
      const [e0, e1] = [perFrame, consistent].map((o) => temporalWarpingError(o, clip.backward));
      const painting = await loadImage(path.join(SHARED_DIR, 'images', 'style', 'udnie.jpg'), { maxSide: 256 });
      const vgg = Vgg19.load({ upTo: 'relu5_1' });
      try {
        const [s0, s1] = [perFrame, consistent].map((o) => meanStyleLoss(vgg, painting, o));
        assert.ok(e1 < 0.5 * e0, `warping error ${e1.toFixed(4)} consistent vs ${e0.toFixed(4)} per frame`);
        assert.ok(s1 <= 1.1 * s0, `style loss ${s1.toFixed(0)} consistent vs ${s0.toFixed(0)} per frame`);
      } finally {
        vgg.dispose();
      }
    } finally {
      model.net.dispose();
    }
  });
});

describe('nst video', needsFfmpeg, () => {
  test('paints a clip with a fast style: frame count, rate, aspect and audio kept; less flicker than per-frame', () => {
    const r = nst(['video', '-i', t('pan.mp4'), '-o', t('wave.mp4'), '--style', 'wave', '--keep-frames']);
    assert.equal(r.status, 0, r.stderr);
    const s = streams(t('wave.mp4'));
    const video = s.find((x) => x.codec_type === 'video')!;
    const audio = s.find((x) => x.codec_type === 'audio');
    assert.equal(video.width, 112);
    assert.equal(video.height, 64);
    assert.equal(video.avg_frame_rate, '12/1');
    assert.equal(Number(video.nb_frames), 12);
    assert.ok(audio, 'the audio track is kept');
    assert.ok(Math.abs(Number(audio!.duration) - 1) < 0.1, `audio lasts ${audio!.duration} s`);
    assert.match(r.stderr, /wrote .*wave\.mp4 \(12 frames, 112x64 at 12\/1 fps, with audio/);
    assert.ok(fs.existsSync(t('wave.mp4.frames', 'frame_000012.png')));
    const perFrame = nst(['video', '-i', t('pan.mp4'), '-o', t('wave-flicker.mp4'), '--style', 'wave', '--no-consistency', '--keep-frames']);
    assert.equal(perFrame.status, 0, perFrame.stderr);
    return Promise.all([readFrames(t('wave.mp4.frames')), readFrames(t('wave-flicker.mp4.frames'))]).then(([a, b]) => {
      const flow = Array.from({ length: 11 }, () => constantFlow(112, 64, 2, 0));
      const consistent = temporalWarpingError(a, flow);
      const flicker = temporalWarpingError(b, flow);
      assert.ok(consistent < 0.6 * flicker, `warping error ${consistent.toFixed(4)} vs ${flicker.toFixed(4)} per frame`);
    });
  });

  test('--size, --fps, --start and --duration paint a part at another size and rate', () => {
    const r = nst(['video', '-i', t('pan.mp4'), '-o', t('part.webm'), '--style', 'wave', '--size', '56', '--fps', '6', '--start', '0.25', '--duration', '0.5']);
    assert.equal(r.status, 0, r.stderr);
    const video = streams(t('part.webm')).find((x) => x.codec_type === 'video')!;
    assert.equal(video.width, 56);
    assert.equal(video.height, 32);
    assert.equal(probeVideo(t('part.webm')).fps, 6);
    assert.match(r.stderr, /\(3 frames, 56x32 at 6 fps, with audio/);
  });

  test('an interrupted run keeps its frames and a partial video; --resume paints only the rest', async () => {
    const controller = new AbortController();
    const options = { input: t('pan.mp4'), output: t('resume.mp4'), style: 'wave', size: 64, threads: 1 };
    const first = await stylizeVideo(options, {
      signal: controller.signal,
      onProgress: (p: VideoProgress) => {
        if (p.type === 'frame' && p.frame === 4) controller.abort();
      },
    });
    assert.equal(first.cancelled, true);
    assert.ok(first.frames >= 4 && first.frames < 12, `stopped after ${first.frames} frames`);
    assert.equal(first.written, true);
    assert.equal(Number(streams(t('resume.mp4')).find((x) => x.codec_type === 'video')!.nb_frames), first.frames);
    const kept = fs.statSync(path.join(first.framesDir!, 'frame_000002.png')).mtimeMs;
    const second = await stylizeVideo({ ...options, resume: true });
    assert.equal(second.cancelled, false);
    assert.equal(second.resumed, first.frames);
    assert.equal(second.painted, 12 - first.frames);
    assert.equal(second.frames, 12);
    assert.equal(Number(streams(t('resume.mp4')).find((x) => x.codec_type === 'video')!.nb_frames), 12);
    assert.equal(second.framesDir, null);
    assert.ok(!fs.existsSync(t('resume.mp4.frames')), 'the frames folder is removed after a complete run');
    assert.ok(kept > 0);
    // Resuming with other settings is refused rather than mixing two looks.
    const third = nst(['video', '-i', t('pan.mp4'), '-o', t('resume2.mp4'), '--style', 'wave', '--size', '64', '--keep-frames']);
    assert.equal(third.status, 0, third.stderr);
    const other = nst(['video', '-i', t('pan.mp4'), '-o', t('resume2.mp4'), '--style', 'udnie', '--size', '64', '--resume']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /painted with other settings/);
  });

  test('bad inputs: one line, exit 2, nothing written', () => {
    fs.writeFileSync(t('notes.txt'), 'not a video\n');
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '0.5', '-c:a', 'aac', t('audio-only.m4a'));
    fs.copyFileSync(PHOTO, t('photo.jpg'));
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['-i', t('notes.txt'), '-o', t('o1.mp4'), '--style', 'wave'], /is not a readable video/],
      [['-i', t('photo.jpg'), '-o', t('o2.mp4'), '--style', 'wave'], /is not a video/],
      [['-i', t('audio-only.m4a'), '-o', t('o3.mp4'), '--style', 'wave'], /is not a video \(no video stream\)/],
      [['-i', t('pan.mp4'), '-o', t('o4.mp4'), '--style', 'wave', '--start', '5'], /past the end/],
      [['-i', t('pan.mp4'), '-o', t('o5.mp4'), '--style', 'wave', '--max-frames', '5'], /about 12 frames to paint, over --max-frames 5/],
      [['-i', t('pan.mp4'), '-o', t('missing-dir', 'o6.mp4'), '--style', 'wave'], /cannot write .*the folder does not exist/],
      [['-i', t('pan.mp4'), '-o', t('o7.avi'), '--style', 'wave'], /unknown video extension '\.avi'/],
      [['-i', t('pan.mp4'), '-o', t('o8.mp4')], /a style is required/],
      [['-i', t('pan.mp4'), '-o', t('o9.mp4'), '--style', 'wave', '--style-image', PHOTO], /not both/],
      [['-i', t('nothing.mp4'), '-o', t('o10.mp4'), '--style', 'wave'], /input video .* does not exist/],
      [['-i', t('pan.mp4'), '-o', t('o11.mp4'), '--style', 'wave'], /ffmpeg is not installed/, { ...process.env, PATH: t('empty-path') }],
    ];
    for (const [args, pattern, env] of cases) {
      const r = nst(['video', ...args], env);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0], /^nst: error: /);
      assert.match(lines[0], pattern);
    }
    const leftovers = fs.readdirSync(tmp).filter((f) => /^o\d+\.|^\.o\d+/.test(f));
    assert.deepEqual(leftovers, []);
  });
});
