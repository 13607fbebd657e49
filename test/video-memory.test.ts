/**
 * `nst video --max-memory`: frames too large for the budget are painted in tiles and the process
 * stays within it; a budget no frame fits is refused in one line naming what it needs; the
 * first SIGTERM ends a run whose frame in progress is long within seconds, keeping the frames
 * finished as a valid, shorter video. Clips are made here with ffmpeg (lavfi testsrc); the tests
 * skip with a message when ffmpeg is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RgbImage } from '../src/image';
import { resolveVideoOptions } from '../src/video';
import { blendWarped } from '../src/video/detail-blend';
import { fingerprint } from '../src/video/run';
import { ffmpeg, HAS_FFMPEG, needsFfmpeg } from './helpers/ffmpeg';

const NST = path.resolve(__dirname, '..', '..', 'bin', 'nst.js');
const TIME = '/usr/bin/time';
let tmp: string;
const t = (...p: string[]) => path.join(tmp, ...p);


/** A test pattern clip of `frames` frames at 12 fps. */
function makeClip(file: string, width: number, height: number, frames: number): void {
  ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=12`, '-frames:v', String(frames), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file);
}

const ENV = { ...process.env, NST_DEBUG: '' };

function nst(args: string[]) {
  return spawnSync(process.execPath, [NST, ...args, '--threads', '1'], { encoding: 'utf8', env: ENV });
}

/** nst under GNU time: also the child's peak resident memory (VmHWM), MiB. */
function nstTimed(args: string[]): { status: number | null; stderr: string; peakMiB: number | null } {
  if (!fs.existsSync(TIME)) return { ...nst(args), peakMiB: null };
  const r = spawnSync(TIME, ['-v', process.execPath, NST, ...args, '--threads', '1'], { encoding: 'utf8', env: ENV });
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { status: r.status, stderr: r.stderr, peakMiB: kb ? Number(kb[1]) / 1024 : null };
}

/** A process's resident memory now (VmRSS), MiB; null without /proc or once it has gone. */
function residentMiB(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function videoFrames(file: string): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** The budget a refusal names, MiB. */
function namedMinimum(stderr: string): number {
  const m = /needs at least ([\d.]+) (MiB|GiB)/.exec(stderr);
  assert.ok(m, stderr);
  return Number(m[1]) * (m[2] === 'GiB' ? 1024 : 1);
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-video-memory-'));
  if (HAS_FFMPEG) makeClip(t('clip640.mp4'), 640, 360, 3);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('nst video --max-memory', needsFfmpeg, () => {
  test('a budget just above what a frame needs: the frames are painted in tiles and the peak stays within it', () => {
    // The first attempt names the minimum; the process's base varies a little between runs, so a
    // refusal of the next attempt names the new minimum, which the one after uses.
    let budget = 100;
    let r = nstTimed(['video', '-i', t('clip640.mp4'), '-o', t('tiled.mp4'), '--style', 'wave', '--max-memory', `${budget}MB`]);
    for (let attempt = 0; attempt < 3 && r.status === 2 && /too small/.test(r.stderr); attempt++) {
      budget = Math.ceil(namedMinimum(r.stderr) * 1.05);
      r = nstTimed(['video', '-i', t('clip640.mp4'), '-o', t('tiled.mp4'), '--style', 'wave', '--max-memory', `${budget}MB`]);
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*tiled\.mp4 \(3 frames, 640x360/);
    assert.match(r.stderr, /3 frame\(s\) in \d+-px tiles/, 'a budget this close tiles the frames');
    const report = /peak (\d+) MiB of --max-memory (\d+) MiB/.exec(r.stderr);
    assert.ok(report, r.stderr);
    assert.equal(Number(report[2]), budget);
    assert.ok(Number(report[1]) <= budget, `the run's peak ${report[1]} MiB is over the budget of ${budget} MiB`);
    if (r.peakMiB !== null) assert.ok(r.peakMiB <= budget, `VmHWM ${r.peakMiB.toFixed(0)} MiB is over the budget of ${budget} MiB`);
    assert.equal(videoFrames(t('tiled.mp4')), 3);
  });

  test('a budget no frame fits is one line naming what the frames need and the largest --size that fits; nothing is written', () => {
    const cases: [string[], RegExp][] = [
      [['--style', 'wave', '--max-memory', '100MB'], /^nst: error: --max-memory 100 MiB is too small for 640x360: one 64-px tile needs at least \d+ MiB; no --size fits 100 MiB$/],
      [['--style', 'wave', '--size', '4000', '--max-memory', '1GB'], /^nst: error: --max-memory 1\.0 GiB is too small for 4000x2250: one 64-px tile needs at least [\d.]+ GiB; the largest --size that fits 1\.0 GiB is (\d+)$/],
    ];
    for (const [args, pattern] of cases) {
      const r = nst(['video', '-i', t('clip640.mp4'), '-o', t('refused.mp4'), ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      const m = pattern.exec(lines[0]);
      assert.ok(m, lines[0]);
      if (m[1]) assert.ok(Number(m[1]) >= 64 && Number(m[1]) < 4000, lines[0]);
      assert.ok(!fs.existsSync(t('refused.mp4')), 'no output');
      assert.ok(!fs.existsSync(t('refused.mp4.frames')), 'no frames folder');
    }
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('refused')), []);
  });

  test('the first SIGTERM during a long frame ends the run within seconds: exit 130, the finished frames as a valid shorter video, no temporary files', async () => {
    // 60 frames at 2,048 px in tiles: a frame is half a minute on one thread. (2 GB: in fp32, on
    // CPUs without bf16 kernels, one 64-px tile of a 2,048 × 1,536 frame needs 1.7 GiB.) Frame 1 is taken
    // as finished by an earlier run (its folder, as a run leaves it), so the signal comes during
    // frame 2's painting.
    makeClip(t('clip60.mp4'), 64, 48, 60);
    const output = t('stopped.mp4');
    const args = ['video', '-i', t('clip60.mp4'), '-o', output, '--style', 'wave', '--size', '2048', '--max-memory', '2GB', '--no-consistency', '--resume', '--print-every', '1', '--threads', '1'];
    const resolved = resolveVideoOptions({ input: t('clip60.mp4'), output, style: 'wave', size: 2048, maxMemory: '2GB', consistency: false, resume: true });
    fs.mkdirSync(`${output}.frames`);
    fs.writeFileSync(path.join(`${output}.frames`, 'settings.json'), JSON.stringify(fingerprint(resolved)));
    ffmpeg('-i', t('clip60.mp4'), '-vf', 'scale=2048:1536', '-frames:v', '1', path.join(`${output}.frames`, 'frame_000001.png'));

    const started = Date.now();
    const child = spawn(process.execPath, [NST, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let signalledAt = 0;
    let watch: NodeJS.Timeout | undefined;
    // Painting frame 2 has begun when the process has grown by its images and first tile (a
    // 2,048 × 1,536 frame: > 150 MiB), not a fixed time after the run said it continues: on a
    // loaded machine, or in fp32, planning the frames can take longer than that. Then SIGTERM,
    // a second into the painting. (Without /proc: one second after it said it continues.)
    const terminateSoon = () => {
      signalledAt = Date.now();
      setTimeout(() => child.kill('SIGTERM'), 1000);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (watch || signalledAt || !/continuing after the 1 frame\(s\)/.test(stderr)) return;
      const start = residentMiB(child.pid!);
      if (start === null) return terminateSoon();
      watch = setInterval(() => {
        const now = residentMiB(child.pid!);
        if (now !== null && now < start + 150) return;
        clearInterval(watch);
        terminateSoon();
      }, 50);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(watch);
    const stopSeconds = (Date.now() - signalledAt - 1000) / 1000;
    assert.ok(signalledAt > 0, stderr);
    assert.equal(code, 130, stderr);
    // Within seconds (the run took 54): 10 s, or, on a machine slowed by other work, less
    // than the same run took to start painting, measured in this very run.
    const limit = Math.max(10, (signalledAt - started) / 1000);
    assert.ok(stopSeconds < limit, `stopped ${stopSeconds.toFixed(1)} s after SIGTERM (limit ${limit.toFixed(1)} s)\n${stderr}`);
    // The frame in progress could not finish in time: the compute thread was stopped mid-frame.
    assert.match(stderr, /the frame in progress is dropped/);
    assert.match(stderr, /wrote .*stopped\.mp4 \(a partial video of 1 frame\(s\)/);
    const frames = videoFrames(output);
    assert.ok(frames >= 1 && frames < 60, `${frames} frames`);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp')), [], 'no temporary video');
    assert.deepEqual(fs.readdirSync(`${output}.frames`).sort(), ['frame_000001.png', 'settings.json'], 'only finished frames are kept');
    // The decoder went with the compute thread.
    const decoders = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(t('clip60.mp4'));
      } catch {
        return false;
      }
    });
    assert.deepEqual(decoders, [], 'no ffmpeg left decoding the clip');
  });
});

describe('the fast method\'s blend in bands', () => {
  test('gives the same frame as in one piece', () => {
    const [width, height] = [96, 200];
    let s = 5;
    const noise = (n: number) => new Float32Array(n).map(() => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
    const current: RgbImage = { width, height, data: noise(3 * width * height) };
    const guide = { warped: { width, height, data: noise(3 * width * height) }, certainty: noise(width * height) };
    const weights = { coarse: 0.95, detail: 0.9 };
    const whole = blendWarped(current, guide, weights, Infinity).data;
    const banded = blendWarped(current, guide, weights, 40 * width).data;
    let worst = 0;
    for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(whole[i] - banded[i]));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });
});
