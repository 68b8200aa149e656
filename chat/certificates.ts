// HTTPS on the LAN: the server's own small certificate authority, made once in DATA_DIR/tls so every device trusts
// it once, and the server's certificate (the leaf) signed by it for the LAN addresses. The leaf is made again by
// the same CA when the addresses change or it nears its end; the private keys never leave that folder.
import 'reflect-metadata'; // @peculiar/x509 needs a Reflect polyfill loaded before it
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 397; // browsers refuse server certificates that live longer
const RENEW_DAYS = 30; // a leaf with less left is made again
const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];
const CA_NAME = 'Classroom chat CA';

export interface Certificates {
  key: string; cert: string; ca: string; // PEM: the leaf's private key and certificate, the CA's certificate
  caName: string; // as a device lists it: "Classroom chat CA (<this machine's name>)"
  isNew: boolean; // the leaf was made now
  isNewCa: boolean; // the CA too: devices must trust it (again)
}

interface Pair { cert: X509Certificate; certPem: string; keyPem: string }

/** The certificates in `dataDir/tls`, made or re-made as needed for these addresses (plus localhost). */
export async function loadCertificates(dataDir: string, addresses: string[]): Promise<Certificates> {
  const dir = join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { caKey: join(dir, 'ca.key'), ca: join(dir, 'ca.crt'), key: join(dir, 'server.key'), cert: join(dir, 'server.crt') };
  const names = [...new Set([...addresses, ...LOCAL_NAMES])];

  const known = readPair(files.ca, files.caKey);
  const isNewCa = !known || Date.parse(known.cert.validTo) - Date.now() < LEAF_DAYS * DAY_MS; // a leaf must not outlive its CA
  const ca = isNewCa ? await save(await makeCa(), files.ca, files.caKey) : known;
  const old = readPair(files.cert, files.key);
  const leaf = old && isLeafFor(old.cert, ca.cert, names) ? old : await save(await makeLeaf(ca, names), files.cert, files.key);
  return { key: leaf.keyPem, cert: leaf.certPem, ca: ca.certPem, caName: ca.cert.subject.replace(/^CN=/, ''), isNew: leaf !== old, isNewCa };
}

/** A certificate and its key from disk, or null when either is missing, unreadable or they do not match. */
function readPair(certFile: string, keyFile: string): Pair | null {
  try {
    const certPem = fs.readFileSync(certFile, 'utf8');
    const keyPem = fs.readFileSync(keyFile, 'utf8');
    const cert = new X509Certificate(certPem);
    return cert.checkPrivateKey(createPrivateKey(keyPem)) ? { cert, certPem, keyPem } : null;
  } catch {
    return null;
  }
}

/** Signed by this CA, for exactly these names, and not near its end. */
function isLeafFor(leaf: X509Certificate, ca: X509Certificate, names: string[]): boolean {
  const sans = leaf.subjectAltName?.split(', ') ?? [];
  const isForNames = sans.length === names.length && names.every((n) => (isIP(n) ? leaf.checkIP(n) : leaf.checkHost(n)));
  return leaf.verify(ca.publicKey) && isForNames && Date.parse(leaf.validTo) - Date.now() > RENEW_DAYS * DAY_MS;
}

async function makeCa() {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(CA_DAYS),
    name: [{ CN: [`${CA_NAME} (${hostname()})`] }], // the name a student sees in the device's settings
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true), // signs server certificates, never other CAs
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}

async function makeLeaf(ca: Pair, names: string[]) {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALGORITHM, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(LEAF_DAYS),
    subject: [{ CN: ['Classroom chat'] }],
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: isIP(n) ? 'ip' as const : 'dns' as const, value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}

/** From an hour ago (a phone's clock may be behind) for `days`; a random positive serial number. */
function validity(days: number) {
  const notBefore = new Date(Date.now() - 3600_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  return { serialNumber: serial.toString('hex'), notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

/** Writes the key first (mode 0600, also over an older file), then the certificate: a stop in between leaves a
 * pair that readPair refuses, so it is made again. */
async function save(made: { cert: x509.X509Certificate; privateKey: CryptoKey }, certFile: string, keyFile: string): Promise<Pair> {
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', made.privateKey), 'PRIVATE KEY');
  const certPem = made.cert.toString('pem');
  fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
  fs.chmodSync(keyFile, 0o600);
  fs.writeFileSync(certFile, certPem);
  return { cert: new X509Certificate(certPem), certPem, keyPem };
}
