import * as vscode from 'vscode';
import type { CredentialInput } from '../../../protocol/daemonApi';
import type { Timers } from '../../common/timers';
import { certificateCredential, secretCredential, validateExpiryDate, validateSecret } from '../../model/tenantInputValidation';

interface KindItem extends vscode.QuickPickItem {
  credentialKind: CredentialInput['kind'];
}

/**
 * Asks for a client secret (in a password box) or a certificate and its private key (files picked). The
 * credential lives only in the returned value, which goes straight to the daemon.
 */
export async function promptCredential(title: string, timers: Pick<Timers, 'now'>): Promise<CredentialInput | undefined> {
  const kinds: KindItem[] = [
    { credentialKind: 'secret', label: '$(key) Client secret', detail: "The secret's Value from the app registration's Certificates & secrets page" },
    { credentialKind: 'certificate', label: '$(file-binary) Certificate', detail: 'A PEM certificate registered on the app, and its unencrypted private key' },
  ];
  const kind = await vscode.window.showQuickPick(kinds, { title, placeHolder: 'How does the app authenticate?', ignoreFocusOut: true });
  if (!kind) return undefined;
  return kind.credentialKind === 'secret' ? promptSecret(title, timers) : promptCertificate(title);
}

async function promptSecret(title: string, timers: Pick<Timers, 'now'>): Promise<CredentialInput | undefined> {
  const secret = await vscode.window.showInputBox({
    title,
    prompt: "The client secret's Value (shown once, when the secret is created)",
    password: true,
    ignoreFocusOut: true,
    validateInput: validateSecret,
  });
  if (secret === undefined) return undefined;
  const expiry = await vscode.window.showInputBox({
    title,
    prompt: 'When the secret expires, as YYYY-MM-DD (optional: the daemon reads it from Microsoft where it can)',
    placeHolder: 'YYYY-MM-DD',
    ignoreFocusOut: true,
    validateInput: (value) => validateExpiryDate(value, timers.now()),
  });
  if (expiry === undefined) return undefined;
  const result = secretCredential(secret, expiry);
  if ('error' in result) throw new Error(result.error);
  return result.credential;
}

async function pickFile(title: string, openLabel: string, filters: Record<string, string[]>): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, openLabel, canSelectMany: false, canSelectFiles: true, canSelectFolders: false, filters });
  const uri = picked?.[0];
  if (!uri) return undefined;
  const bytes = await vscode.workspace.fs.readFile(uri);
  if (bytes.byteLength > 256 * 1024) throw new Error(`${uri.fsPath} is too large to be a PEM file.`);
  return new TextDecoder().decode(bytes);
}

async function promptCertificate(title: string): Promise<CredentialInput | undefined> {
  const certificate = await pickFile(`${title}: the certificate`, 'Use Certificate', { 'PEM certificate': ['pem', 'crt', 'cer'], 'All files': ['*'] });
  if (certificate === undefined) return undefined;
  // A PEM bundle often holds the key as well; then there is nothing more to pick.
  let key = /-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY/.test(certificate) ? certificate : undefined;
  key ??= await pickFile(`${title}: its private key`, 'Use Private Key', { 'PEM private key': ['pem', 'key'], 'All files': ['*'] });
  if (key === undefined) return undefined;
  const result = certificateCredential(certificate, key);
  if ('error' in result) throw new Error(result.error);
  return result.credential;
}

