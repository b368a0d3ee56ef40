// Wallet sign-in: the server issues a Sign-In-With-Stacks challenge for the address, the wallet
// signs its exact text with `stx_signMessage` (the SIP-030 call Leather and Xverse answer, through
// @stacks/connect's `request`), and the server verifies the signature and opens a 24 h session.
import { getStacksProvider, request, type StacksProvider } from "@stacks/connect";
import type { ApiClient, ResponseOf } from "./client";
import { unwrap } from "./errors";

/** What `POST /api/auth/verify` answers: `{token, expiresAt, user}`. */
export type Session = ResponseOf<"/api/auth/verify", "post", 200>;
/** What `POST /api/auth/challenge` answers: `{challenge, nonce, expiresAt}`. */
export type Challenge = ResponseOf<"/api/auth/challenge", "post", 200>;

export interface SignInOptions {
  /**
   * The Stacks address to sign in as (ST… on testnet, SP… on mainnet). Without it the wallet is
   * asked for its addresses (`getAddresses`) and its first Stacks one is used.
   */
  address?: string;
  /**
   * The wallet to ask. By default the one the user picked before, or window.StacksProvider;
   * with none, @stacks/connect shows its wallet picker.
   */
  provider?: StacksProvider;
}

export async function signIn(api: ApiClient, options: SignInOptions = {}): Promise<Session> {
  const provider = options.provider ?? getStacksProvider();
  const connect = provider ? { provider } : {};
  const address = options.address ?? (await walletAddress(connect));
  const challenge = await unwrap(api.POST("/api/auth/challenge", { body: { address } }));
  // The wallet shows the user this text and signs it byte for byte: never change it.
  const signed = await request(connect, "stx_signMessage", { message: challenge.challenge });
  return unwrap(
    api.POST("/api/auth/verify", {
      body: {
        address,
        challenge: challenge.challenge,
        nonce: challenge.nonce,
        signature: signed.signature.replace(/^0x/, ""),
        publicKey: signed.publicKey,
      },
    }),
  );
}

/** Ends the session: the server revokes the token (and closes its WebSockets with 4401). */
export async function signOut(api: ApiClient): Promise<void> {
  await unwrap(api.POST("/api/auth/logout"));
}

async function walletAddress(connect: { provider?: StacksProvider }): Promise<string> {
  const { addresses } = await request(connect, "getAddresses");
  const stacks = addresses.find((entry) => /^S[PT]/.test(entry.address));
  if (!stacks) {
    throw new Error("the wallet returned no Stacks (SP/ST) address");
  }
  return stacks.address;
}
