// Shared helpers for the end-to-end tests: spawn a server binary that prints
// `listening on http://ADDR`, connect stock socket.io-client sockets, await events with timeouts.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The cargo target directory: $CARGO_TARGET_DIR, else <repo>/target. */
export function targetDir() {
  return process.env.CARGO_TARGET_DIR
    ? path.resolve(process.env.CARGO_TARGET_DIR)
    : path.resolve(here, "../../target");
}

/** Path of a binary built by cargo: `envVar` overrides, else target/debug/<relative>. */
export function cargoBinary(envVar, relative) {
  const bin = process.env[envVar] ?? path.join(targetDir(), "debug", relative);
  if (!fs.existsSync(bin)) {
    throw new Error(
      `${bin} not found: build it first (cargo build --all-targets) or set ${envVar}`,
    );
  }
  return bin;
}

/**
 * Spawns `bin args` and resolves once it prints `listening on http://ADDR`.
 * Returns { url, process, stop() }; stop() sends SIGTERM and waits for exit.
 */
export function startServer(bin, args = [], env = {}, readyTimeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    // The test runner's own SWITCHBOARD_BIN is not a configuration key: the server
    // would refuse to start with it (unknown keys are errors).
    const inherited = { ...process.env };
    delete inherited.SWITCHBOARD_BIN;
    const child = spawn(bin, args, {
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} not ready in ${readyTimeoutMs} ms\n${stderr}`));
    }, readyTimeoutMs);
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (process.env.E2E_SERVER_LOGS) process.stderr.write(chunk);
    });
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          process: child,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once("exit", (code) => done(code));
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code} before listening\n${stderr}`));
    });
  });
}

/** A socket.io-client socket that never reconnects on its own (tests decide). */
export function connect(url, opts = {}) {
  return io(url, { reconnection: false, forceNew: true, timeout: 5_000, ...opts });
}

/** Resolves with the arguments of the next `event` on `emitter`, rejects after `ms`. */
export function once(emitter, event, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    function handler(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, handler);
  });
}

/** Resolves once `socket` is connected; rejects with the connect_error. */
export function connected(socket, ms = 5_000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
