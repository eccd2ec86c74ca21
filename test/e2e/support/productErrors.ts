import type { E2eProduct } from './e2eProduct';

export interface ProductErrors {
  /** The browser refused something under a Content-Security-Policy (the webview's, in practice). */
  contentSecurityPolicy: string[];
  /** VS Code's tree refused the rows it was given (duplicate ids and the like). */
  tree: string[];
  /** Errors the extension let escape, as the extension host logged them (with the extension's path in the stack). */
  extensionHost: string[];
  /** `[error]` lines in the extension's own output channel. */
  extensionLog: string[];
}

/**
 * What went wrong along a run without failing a step: read from the browser console, the notifications on
 * screen, the extension host's log and the extension's log. Noise of this offline machine (no
 * marketplace, no telemetry endpoint) is not about the extension and is left out.
 */
export async function productErrors(product: E2eProduct, notifications: readonly string[] = []): Promise<ProductErrors> {
  const browser = product.logs.filter((line) => /^\[[\d:.]+ (console\.error|pageerror)\]/.test(line));
  const hostEntries = (await product.extensionHostLog()).split(/\n(?=\d{4}-\d{2}-\d{2} )/);
  return {
    contentSecurityPolicy: browser.filter((line) => /Content.Security.Policy|Refused to (load|execute|apply|connect|frame)/i.test(line)),
    tree: [...browser, ...notifications].filter((line) => /already registered|Element with id/.test(line)),
    extensionHost: hostEntries.filter((entry) => /\[error\]/.test(entry) && /m365-status/.test(entry)),
    extensionLog: (await product.extensionLog()).split('\n').filter((line) => /\[error\]/.test(line)),
  };
}
