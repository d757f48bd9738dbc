import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface TestCertificates {
  dir: string;
  /** PEM file of the CA that signed the server certificate. */
  caPath: string;
  /** The only name the server certificate carries (not the proxy's address). */
  serverName: string;
  serverKey: string;
  serverCert: string;
}

/** A fresh CA and a server certificate it signs, for `serverName` only (openssl, in a temp folder). */
export function makeCertificates(serverName = 'temporal.test'): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sf-iceberg test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${serverName}`);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  return {
    dir,
    caPath: path.join(dir, 'ca.pem'),
    serverName,
    serverKey: fs.readFileSync(path.join(dir, 'server.key'), 'utf8'),
    serverCert: fs.readFileSync(path.join(dir, 'server.pem'), 'utf8'),
  };
}

/**
 * TLS in front of a plain gRPC server (the Temporal dev server has no TLS): terminates TLS with
 * ALPN h2 on 127.0.0.1 and pipes the bytes to `target`. Counts the handshakes that completed.
 */
export async function startTlsProxy(certs: TestCertificates, target: string): Promise<{ address: string; handshakes: () => number; stop: () => Promise<void> }> {
  const [, host, port] = /^\[?(.*?)\]?:(\d+)$/.exec(target)!;
  let handshakes = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: certs.serverKey, cert: certs.serverCert, ALPNProtocols: ['h2'] }, (client) => {
    handshakes++;
    const upstream = net.connect({ host: host!, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  // A refused handshake (untrusted CA, wrong name) is the client's to report; the proxy stays up.
  server.on('tlsClientError', () => undefined);
  server.on('connection', (s: net.Socket) => (sockets.add(s), s.once('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    address,
    handshakes: () => handshakes,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
