export * from "./client";
export * from "./errors";
export * from "./signIn";
export * from "./notifications";
