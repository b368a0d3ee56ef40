// A test wallet for the browser test (tests/browser/test_frontend.py): injected into the page as
// window.StacksProvider, the way Leather and Xverse expose themselves, it answers what the sign-in
// helper asks through @stacks/connect (`getAddresses`, `stx_signMessage`) the way those wallets
// do, signing with @stacks/transactions and @stacks/encryption (the libraries they sign with):
// SHA-256 of the "\x17Stacks Signed Message:\n" prefix, the varint length and the UTF-8 text,
// a recoverable secp256k1 signature in RSV order. Test keys only (SIGNING.md's vectors).
import { hashMessage } from "@stacks/encryption";
import { privateKeyToAddress, privateKeyToPublic, signMessageHashRsv } from "@stacks/transactions";

export interface TestWalletCall {
  method: string;
  params: unknown;
}

declare global {
  interface Window {
    StacksProvider?: unknown;
    __walletCalls: TestWalletCall[];
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Install the wallet of this 32-byte private key (hex) on window.StacksProvider. */
export function install(options: { privateKey: string; network: "testnet" | "mainnet" }): void {
  const privateKey = `${options.privateKey}01`; // 01: the compressed public key, as wallets use
  const publicKey = String(privateKeyToPublic(privateKey));
  const address = privateKeyToAddress(privateKey, options.network);
  window.__walletCalls = [];
  let id = 0;
  window.StacksProvider = {
    async request(method: string, params?: Record<string, unknown>) {
      window.__walletCalls.push({ method, params: JSON.parse(JSON.stringify(params ?? null)) });
      id += 1;
      const reply = (result: unknown) => ({ jsonrpc: "2.0", id: String(id), result });
      switch (method) {
        case "getAddresses":
        case "stx_getAddresses":
          return reply({ addresses: [{ symbol: "STX", address, publicKey }] });
        case "stx_signMessage": {
          const message = params?.["message"];
          if (typeof message !== "string") {
            return { jsonrpc: "2.0", id: String(id), error: { code: -32602, message: "no message" } };
          }
          const messageHash = hex(hashMessage(message));
          return reply({ signature: signMessageHashRsv({ messageHash, privateKey }), publicKey });
        }
        default:
          return { jsonrpc: "2.0", id: String(id), error: { code: -32601, message: method } };
      }
    },
  };
}
