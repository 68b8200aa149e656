// The addresses students open, and the page the teacher projects: the room's title, its address in
// large type and its QR code. Only the server's own URLs and the (escaped) title go into it.
import { networkInterfaces } from 'node:os';
import { DEFAULT_ROOM } from './contract.ts';
import type { Room } from './room.ts';

/** The addresses students can open; localhost last (and only if there is no LAN address, for the join screen). */
export function lanUrls(port: number, { withLocalhost = true } = {}): string[] {
  const ips = Object.values(networkInterfaces()).flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i!.address);
  const hosts = withLocalhost || !ips.length ? [...ips, 'localhost'] : ips;
  return hosts.map((ip) => `http://${ip}:${port}/`);
}

export function joinPage(room: Room, urls: string[]): string {
  const [main, ...others] = urls.map(escapeHtml);
  const more = others.map((u) => `<li>${u}</li>`).join('');
  const title = escapeHtml(room.meta.title);
  const qr = `/join.svg${room.id === DEFAULT_ROOM ? '' : `?room=${room.id}`}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: join the class chat</title><link rel="stylesheet" href="/join.css"></head>
<body class="join"><main><h1>${title}</h1><p class="join-sub">Join the class chat · 加入课堂聊天</p><img src="${qr}" alt="QR code of ${main}" width="360" height="360">
<p class="join-url">${main}</p><ul class="join-others">${more}</ul></main></body></html>`;
}

/** The title is the admin's text: escaped before it goes into the one page made on the server. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
