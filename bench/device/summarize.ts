/**
 * Last step of scripts/device-check.sh: reads the engine's and PyTorch's reports and writes the
 * issue's targets as pass/fail. Parity: losses and gradient within 1e-3 of the CPU and of PyTorch
 * (fp32, TF32 off), the feed-forward image within one 8-bit step of the CPU's. Speed: each figure
 * within 5 % of PyTorch's on the same device or faster (ratio = engine / PyTorch ≤ 1.05), and the
 * 500-iteration 512-px run in ≤ 10 s.
 *
 * Usage: node dist/bench/device/summarize.js ENGINE.json PYTORCH.json  → JSON on stdout
 */
import * as fs from 'node:fs';

type Timing = { median: number; min: number };

function main(): void {
  const [enginePath, torchPath] = process.argv.slice(2);
  const engine = JSON.parse(fs.readFileSync(enginePath, 'utf8'));
  const torch = torchPath && fs.existsSync(torchPath) ? JSON.parse(fs.readFileSync(torchPath, 'utf8')) : null;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const speed: Record<string, { engineMs: number; pytorchMs: number | null; ratio: number | null; pass: boolean | null }> = {};
  const add = (name: string, mine: Timing, theirs: Timing | undefined) => {
    const r = theirs ? ratio(mine.median, theirs.median) : null;
    speed[name] = { engineMs: mine.median, pytorchMs: theirs?.median ?? null, ratio: r, pass: r === null ? null : r <= 1.05 };
  };
  for (const [size, t] of Object.entries(engine.speed.fwdGradMs as Record<string, Timing>)) add(`fwdGrad${size}`, t, torch?.speed.fwdGradMs[size]);
  for (const [size, t] of Object.entries(engine.speed.fastStyliseMs as Record<string, Timing>)) add(`fastStylise${size}`, t, torch?.speed.fastStyliseMs[size]);
  add(`trainStep${engine.speed.trainStepBatch4Ms.size}Batch4`, engine.speed.trainStepBatch4Ms, torch?.speed.trainStepBatch4Ms);
  const run = engine.speed.run512;
  const torchRun = torch?.speed.run512;
  add('run512PerIteration', { median: run.msPerIteration, min: run.msPerIteration }, torchRun ? { median: torchRun.msPerIteration, min: torchRun.msPerIteration } : undefined);
  // The target is for 500 iterations at 512²; shorter runs (the CPU rehearsal) are scaled.
  const run500Seconds = (run.msPerIteration * 500) / 1000;
  const summary = {
    device: engine.engine.device,
    gpu: torch?.gpu ?? null,
    engineTorch: engine.engine.torchVersion,
    pytorch: torch?.torch ?? null,
    parity: {
      engineCpuVsDevice: { lossMaxRelErr: engine.parity.lossMaxRelErr, gradMaxRelErr: engine.parity.gradMaxRelErr, fastMaxByteDiff: engine.parity.fastMaxByteDiff, lbfgs10MaxByteDiff: engine.parity.lbfgs10MaxByteDiff, pass: engine.parity.pass },
      engineVsPytorch: torch ? { lossMaxRelErr: torch.parity.lossMaxRelErr, gradMaxRelErr: torch.parity.gradMaxRelErr, pass: torch.parity.pass } : null,
    },
    speed,
    run500At512: { seconds: Number(run500Seconds.toFixed(2)), pass: run500Seconds <= 10 },
  };
  const speedPass = Object.values(speed).every((s) => s.pass !== false);
  const pass = summary.parity.engineCpuVsDevice.pass && (summary.parity.engineVsPytorch?.pass ?? false) && speedPass && summary.run500At512.pass;
  process.stdout.write(JSON.stringify({ ...summary, pass }, null, 2) + '\n');
}

main();
