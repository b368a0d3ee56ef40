// What the review panel needs from @stacks/connect, as one global: window.StacksConnect.
export { request, getStacksProvider, isStacksWalletInstalled } from "@stacks/connect";
export { Cl } from "@stacks/transactions";
