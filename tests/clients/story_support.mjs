// What the client stories share: a silent logger for matrix-js-sdk and polling until something holds.
import { webcrypto } from "node:crypto";

// Debian 12's Node 18 has no global `crypto` in scripts (Node 20 has); matrix-js-sdk draws its random
// strings from it. With it in place both stories pass on Debian's Node 18.20 as on Node 20.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

export const logger = { debug() {}, info() {}, log() {}, warn() {}, error() {}, trace() {}, getChild() { return logger; } };

// Resolves with predicate()'s first truthy value; rejects naming `description` after timeoutMs.
export function waitFor(description, predicate, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      let value;
      try { value = predicate(); } catch (e) { value = undefined; }
      if (value) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error("timed out waiting for " + description));
      setTimeout(tick, 50);
    };
    tick();
  });
}
