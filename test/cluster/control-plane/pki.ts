// Keys and certificates for the local control plane, made with openssl:
// - a CA and a serving certificate for kube-apiserver on 127.0.0.1/localhost
//   (the kubeconfig trusts the CA, so clients verify TLS for real);
// - an RSA key pair for signing ServiceAccount tokens, so the TokenRequest
//   API works (tests mint tokens for ServiceAccounts to check RBAC);
// - a static token file with one admin user in system:masters.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pkiDir } from './state.ts';

export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
  tokenFile: string;
  adminToken: string;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: pkiDir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed in ${pkiDir}: ${stderr || String(error)}`);
  }
}

export function makePki(): Pki {
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const p = (file: string): string => join(pkiDir, file);
  const days = '30';
  openssl(['genrsa', '-out', 'ca.key', '2048']);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-days',
    days,
    '-subj',
    '/CN=local-cluster-ca',
    '-out',
    'ca.crt',
  ]);
  openssl(['genrsa', '-out', 'apiserver.key', '2048']);
  openssl(['req', '-new', '-key', 'apiserver.key', '-subj', '/CN=kube-apiserver', '-out', 'apiserver.csr']);
  const sans = [
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,',
    'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n',
    'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  ].join('');
  writeFileSync(p('apiserver.ext'), sans);
  openssl([
    'x509',
    '-req',
    '-in',
    'apiserver.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    days,
    '-extfile',
    'apiserver.ext',
    '-out',
    'apiserver.crt',
  ]);
  openssl(['genrsa', '-out', 'sa.key', '2048']);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  const adminToken = randomBytes(24).toString('hex');
  // Format: token,user,uid,"group1,group2"
  writeFileSync(p('tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    tokenFile: p('tokens.csv'),
    adminToken,
  };
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 (EC P-256, one day), for the loopback
 * proxies of the fault tests and the benchmarks. Made in a directory removed at once.
 */
export function loopbackCertificate(commonName: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'loopback-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
