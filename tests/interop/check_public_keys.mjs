// Tokens a hyperjwt server signs with a public key verified by node's `jose` through the server's
// JWKS URL alone (createRemoteJWKSet: it fetches the set, picks the key by kid, and fetches again
// when it meets a kid it has not seen, as after a rotation).
//
//   node tests/interop/check_public_keys.mjs http://127.0.0.1:5000 TOKEN [TOKEN...]
//
// `jose` is resolved from NODE_PATH-style JOSE_DIR (tests/interop/public_keys.sh installs a pinned
// version into a scratch directory). Each token must verify, and a copy with one payload character
// changed must not. Prints one line per check and `interop: N passed, M failed`; exits 1 on failure.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.JOSE_DIR ?? process.cwd(), "noop.js"));
const { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } = require("jose");

const [baseUrl, ...tokens] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(baseUrl + "/.well-known/jwks.json"));
let passed = 0;
let failed = 0;
const check = (name, ok, detail = "") => {
  console.log((ok ? "PASS " : "FAIL ") + name + (ok ? "" : `: ${detail}`));
  ok ? passed++ : failed++;
};
const tampered = (token) => {
  const [h, p, s] = token.split(".");
  const m = Math.floor(p.length / 2);
  return [h, p.slice(0, m) + (p[m] === "A" ? "B" : "A") + p.slice(m + 1), s].join(".");
};

for (const token of tokens) {
  const { alg, kid = "" } = decodeProtectedHeader(token);
  const label = `${alg} kid ${kid.slice(0, 8)}`;
  try {
    const { payload } = await jwtVerify(token, jwks, { algorithms: ["EdDSA", "Ed25519", "ES256", "RS256"] });
    check(`jose createRemoteJWKSet verifies the ${label} token`, payload.sub === "user1", JSON.stringify(payload));
  } catch (e) {
    check(`jose createRemoteJWKSet verifies the ${label} token`, false, String(e));
  }
  try {
    await jwtVerify(tampered(token), jwks);
    check(`jose refuses the ${label} token with its payload changed`, false, "accepted");
  } catch (e) {
    check(`jose refuses the ${label} token with its payload changed`, e.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" || e.code === "ERR_JWS_INVALID", String(e));
  }
}
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
