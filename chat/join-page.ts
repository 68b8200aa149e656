// The addresses students open, and the page the teacher projects: the room's title, its address in
// large type and its QR code, and with HTTPS on the https addresses and how to trust the server's CA.
// Only the server's own URLs, the page's own sentences and the (escaped) title go into it.
import { networkInterfaces } from 'node:os';
import { DEFAULT_ROOM } from './contract.ts';
import type { Room } from './room.ts';

/** The IPv4 addresses of this machine on its networks (not loopback). */
export function lanAddresses(): string[] {
  return Object.values(networkInterfaces()).flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i!.address);
}

/** The addresses students can open; localhost last (and only if there is no LAN address, for the join screen). */
export function lanUrls(port: number, { withLocalhost = true, scheme = 'http' } = {}): string[] {
  const ips = lanAddresses();
  const hosts = withLocalhost || !ips.length ? [...ips, 'localhost'] : ips;
  return hosts.map((ip) => `${scheme}://${ip}:${port}/`);
}

// Both languages at once, as the rest of the page: a class may read either.
const STRINGS = {
  en: {
    secure: 'For voice messages and recording',
    trust: 'Trust this server once',
    download: 'On each device, once: download',
    then: ', then:',
    android: 'Settings › Security › Encryption & credentials › Install a certificate › CA certificate, and pick ca.crt (or search Settings for “CA certificate”).',
    ios: 'Open the link in Safari and allow the download; Settings › Profile Downloaded › Install; then Settings › General › About › Certificate Trust Settings: switch on “{ca}”.',
    windows: 'Open ca.crt › Install Certificate › Current User › Place all certificates in: Trusted Root Certification Authorities › Finish › Yes.',
    macos: 'Open ca.crt (Keychain Access keeps it), double-click “{ca}” there, then Trust › When using this certificate: Always Trust.',
    chromeos: 'Settings › Privacy and security › Security › Manage certificates › Authorities › Import, pick ca.crt and tick “Trust this certificate for identifying websites”.',
  },
  zh: {
    secure: '语音消息和录音请用',
    trust: '只需信任本服务器一次',
    download: '每台设备只需一次：下载',
    then: '，然后：',
    android: '设置 › 安全 › 加密与凭据 › 安装证书 › CA 证书，选择 ca.crt（也可以在设置里搜索“CA 证书”）。',
    ios: '用 Safari 打开链接并允许下载；设置 › 已下载描述文件 › 安装；再到 设置 › 通用 › 关于本机 › 证书信任设置，打开“{ca}”。',
    windows: '打开 ca.crt › 安装证书 › 当前用户 › 将所有的证书都放入下列存储：受信任的根证书颁发机构 › 完成 › 是。',
    macos: '打开 ca.crt（“钥匙串访问”会保存它），在其中双击“{ca}”，然后 信任 › 使用此证书时：始终信任。',
    chromeos: '设置 › 隐私和安全 › 安全 › 管理证书 › 授权机构 › 导入，选择 ca.crt，勾选“信任该证书，以便标识网站”。',
  },
};
type Key = keyof typeof STRINGS.en;
const PLATFORMS: [string, Key][] = [['Android', 'android'], ['iPhone, iPad', 'ios'], ['Windows', 'windows'], ['macOS', 'macos'], ['ChromeOS', 'chromeos']];
const both = (key: Key) => `${escapeHtml(STRINGS.en[key])} · ${escapeHtml(STRINGS.zh[key])}`;

export interface SecureAddresses { urls: string[]; caName: string }

/** The projector page; with HTTPS on, its addresses too, and how a device trusts the server's CA (from the plain address). */
export function joinPage(room: Room, urls: string[], secure?: SecureAddresses): string {
  const [main, ...others] = urls.map(escapeHtml);
  const more = others.map((u) => `<li>${u}</li>`).join('');
  const title = escapeHtml(room.meta.title);
  const qr = `/join.svg${room.id === DEFAULT_ROOM ? '' : `?room=${room.id}`}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: join the class chat</title><link rel="stylesheet" href="/join.css"></head>
<body class="join"><main><h1>${title}</h1><p class="join-sub">Join the class chat · 加入课堂聊天</p><img src="${qr}" alt="QR code of ${main}" width="360" height="360">
<p class="join-url">${main}</p><ul class="join-others">${more}</ul>${secure?.urls.length ? securePart(secure, new URL('/ca.crt', urls[0]).href) : ''}</main></body></html>`;
}

function securePart({ urls, caName }: SecureAddresses, caUrl: string): string {
  const ca = escapeHtml(caUrl);
  const step = (lang: keyof typeof STRINGS, key: Key) => `<dd lang="${lang}">${escapeHtml(STRINGS[lang][key].replace('{ca}', caName))}</dd>`;
  const steps = PLATFORMS.map(([name, key]) => `<dt>${name}</dt>${step('en', key)}${step('zh', key)}`).join('');
  return `<section class="join-secure"><p class="join-sub">${both('secure')}</p><ul class="join-secure-urls">${urls.map((u) => `<li>${escapeHtml(u)}</li>`).join('')}</ul>
<details class="join-trust"><summary>${both('trust')}</summary><p>${escapeHtml(STRINGS.en.download)} <a href="${ca}" download>${ca}</a>${escapeHtml(STRINGS.en.then)}<br>
<span lang="zh">${escapeHtml(STRINGS.zh.download)} <a href="${ca}" download>${ca}</a>${escapeHtml(STRINGS.zh.then)}</span></p><dl>${steps}</dl></details></section>`;
}

/** The title is the admin's text: escaped before it goes into the one page made on the server. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
