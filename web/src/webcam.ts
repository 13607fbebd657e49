/** The webcam painted live with the chosen quick style, in this browser. */
import { browserNet } from './in-browser.js';
import { els, setStatus, showError, state, viewer } from './page.js';
import { strengthValue } from './settings.js';

async function startWebcam(): Promise<void> {
  const net = await browserNet();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  state.stopWatching?.();
  state.stopWatching = null;
  state.webcam = stream;
  viewer.video.srcObject = stream;
  await viewer.video.play();
  viewer.showCanvas(null);
  els.webcamStart.disabled = true;
  els.webcamStop.disabled = false;
  let frames = 0;
  const t0 = performance.now();
  const loop = async () => {
    if (!state.webcam) return;
    let ms = 0;
    if (viewer.video.readyState >= 2) {
      ms = await net.stylizeTo(viewer.video, viewer.canvas, Math.min(Number(els.size.value), 384), strengthValue().blend);
      frames++;
      viewer.layout();
      setStatus(`webcam: ${(frames / ((performance.now() - t0) / 1000)).toFixed(1)} frames/s (${tf.getBackend()})`);
    }
    // A slow frame (the CPU backend) is followed by as long a pause, so the page still answers
    // (Stop webcam, the form) instead of painting frames back to back.
    if (ms > 30) window.setTimeout(() => requestAnimationFrame(loop), ms);
    else requestAnimationFrame(loop);
  };
  loop();
}

export function stopWebcam(): void {
  if (!state.webcam) return;
  state.webcam.getTracks().forEach((t) => t.stop());
  state.webcam = null;
  els.webcamStart.disabled = false;
  els.webcamStop.disabled = true;
}

export function setUpWebcam(): void {
  els.webcamStart.addEventListener('click', () => startWebcam().catch((e) => showError(String(e.message ?? e))));
  els.webcamStop.addEventListener('click', stopWebcam);
}
