import { openRig, step } from './driver.ts';
import { SERVERS } from './servers.ts';
(SERVERS as any).tutorial = { label: 'immediate', script: 'bench/_exp-immediate.ts', ready: 'welcome' };
for (let round = 0; round < 2; round++) for (const key of ['ours', 'tutorial', 'bare'] as const) {
  const rig = await openRig(key, 1000, 4);
  try {
    await step(rig, 40, 3);
    for (const [rate, s] of [[40, 8], [60, 5], [80, 5]]) {
      const r = await step(rig, rate, s);
      console.log(round, SERVERS[key].label.padEnd(16), rate, 'cpu', r.cpuUsPerDelivery.toFixed(2), 'p50', r.p50.toFixed(1), 'p99', r.p99.toFixed(1), 'srv%', r.serverCpuPct.toFixed(0), 'rx%', r.loadCpuPct.toFixed(0));
      await rig.rx.call('waitCount', { target: Infinity, idleMs: 300, timeoutMs: 5000 });
    }
  } finally { rig.close(); }
}
