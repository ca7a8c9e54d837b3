// Shown instead of the playground when there is no WebGPU or no adapter: why, and what to do.
export function NoWebGPU({ reason }: { reason: string }) {
  return (
    <main className="no-webgpu" aria-labelledby="no-webgpu-title">
      <h1 id="no-webgpu-title">WebGPU is not available</h1>
      <p className="reason" data-testid="no-webgpu-reason">
        {reason}
      </p>
      <p>This playground trains models on your GPU through WebGPU, so it cannot run here. What to do:</p>
      <ul>
        <li>
          Use a recent <strong>Chrome or Edge</strong> (version 113 or newer) on Windows, macOS or ChromeOS: WebGPU is on by default.
        </li>
        <li>
          On <strong>Linux</strong>, start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, or enable{' '}
          <code>chrome://flags/#enable-unsafe-webgpu</code> and restart.
        </li>
        <li>
          Check <code>chrome://gpu</code>: if WebGPU shows as disabled or blocklisted, update the graphics driver, or turn on{' '}
          <code>chrome://flags/#ignore-gpu-blocklist</code>.
        </li>
        <li>
          <strong>Firefox</strong>: Firefox 141+ on Windows, or Nightly with <code>dom.webgpu.enabled</code>; <strong>Safari</strong>: 26+, or
          18 with the WebGPU feature flag.
        </li>
        <li>Without any GPU, Chrome can still run WebGPU on the CPU (SwiftShader) when started with the flags above: slow, but it works.</li>
      </ul>
    </main>
  );
}
