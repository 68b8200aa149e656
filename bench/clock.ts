// One clock for every process of the benchmark: CLOCK_MONOTONIC is system-wide on Linux, so a
// sender's stamp and a receiver's reading compare directly (Date.now() has only 1 ms steps).
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a client knows it is in: the WebSocket open, the Socket.IO connect ack, our `welcome`, or the tutorial's `online`. */
export type Ready = 'open' | 'connect' | 'welcome' | 'online';

export interface ConnectArgs { url: string; ready: Ready; count: number; prefix: string; window: number; timeoutMs: number }
export interface ConnectResult { connected: number; failed: number; ms: number }
export interface SendResult { sent: number; ms: number }
export interface Stats { count: number; stale: number; dropped: number; p50: number; p99: number; max: number; mean: number }
