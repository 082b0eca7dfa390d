//! Keys that sign with one half and verify with the other (RFC 7518 §3.3–3.4, RFC 8037): Ed25519
//! (`EdDSA`), ECDSA P-256 (`ES256`) and RSA (`RS256`), all on `ring`.
//!
//! A [`PrivateKey`] signs; its [`PublicKey`] verifies and is what a JWKS publishes
//! ([`jwk`](super::jwk)). A key's algorithm is its type's, fixed when it is read: an Ed25519 key
//! is EdDSA and nothing else (RFC 8725 §3.1). Its `kid` is its RFC 7638 thumbprint, so the name
//! follows from the key and needs no configuration (the HS256 keys' `kid` is derived the same way,
//! from a hash that reveals nothing).
//!
//! Private keys come as PKCS#8 (RFC 5958), the form `openssl genpkey` and `hyperjwt keys generate`
//! write; `ring` can make Ed25519 and P-256 keys, not RSA keys, which an operator brings.
//!
//! Feature `public-keys`: `ring`'s curve and RSA code (about 0.35 MB of the binary, the P-256 table
//! alone 151 KB) is linked only with it, so the default build stays under 2 MiB. Without it no key
//! of this module can be made ([`KeyError::Disabled`]), and the rest of the crate, which only ever
//! meets keys made here, has nothing to sign or verify with them.

use ring::rand::SystemRandom;
#[cfg(feature = "public-keys")]
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents, UnparsedPublicKey,
};

use super::algorithm::Algorithm;
use super::pem::{self, PemError};
use super::{JwtError, b64, der};

/// Why a key could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Pem(PemError),
    /// Not a PKCS#8 Ed25519, P-256 or RSA (2048 to 8192 bits) private key; `ring`'s reason.
    Unsupported(String),
    /// A public key (file or JWK) this module can't use, and why.
    Public(String),
    /// `ring` cannot generate keys of this algorithm (RSA, HS256).
    CannotGenerate(Algorithm),
    /// The system's random generator failed.
    Random,
    /// This binary was built without the `public-keys` feature.
    Disabled,
}

/// `Err(Disabled)` in a build without the `public-keys` feature: no public or private key exists
/// there.
fn enabled() -> Result<(), KeyError> {
    if cfg!(feature = "public-keys") {
        Ok(())
    } else {
        Err(KeyError::Disabled)
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Pem(e) => e.fmt(f),
            KeyError::Unsupported(why) => write!(
                f,
                "not an unencrypted PKCS#8 Ed25519, P-256 or RSA (2048-8192 bits) private key ({why})"
            ),
            KeyError::Public(why) => write!(f, "unusable public key: {why}"),
            KeyError::CannotGenerate(alg) => write!(
                f,
                "{alg} keys can't be generated here; bring one (openssl genpkey -algorithm RSA \
                 -pkeyopt rsa_keygen_bits:3072 -out key.pem), then: hyperjwt keys add key.pem"
            ),
            KeyError::Random => f.write_str("the system random generator failed"),
            KeyError::Disabled => f.write_str(
                "this binary was built without public-key support (EdDSA, ES256, RS256); build it \
                 with `cargo build --release --features public-keys`",
            ),
        }
    }
}

impl std::error::Error for KeyError {}

impl From<PemError> for KeyError {
    fn from(error: PemError) -> Self {
        KeyError::Pem(error)
    }
}

/// The public half of a key: what verifies, and what a JWKS shows.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    alg: Algorithm,
    material: Material,
    kid: String,
}

/// The numbers of a public key, as JWK members carry them (RFC 7518 §6, RFC 8037 §2).
#[derive(Clone, PartialEq, Eq)]
enum Material {
    /// The 32-byte encoded point `x` of RFC 8032.
    Ed25519([u8; 32]),
    /// The uncompressed point `0x04 ‖ x ‖ y` (SEC 1 §2.3.3), which `ring` verifies with.
    P256([u8; 65]),
    /// The modulus and the public exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    fn new(alg: Algorithm, material: Material) -> Result<Self, KeyError> {
        enabled()?;
        let mut key = PublicKey {
            alg,
            material,
            kid: String::new(),
        };
        key.kid = key.thumbprint();
        Ok(key)
    }

    /// An Ed25519 public key from its 32 bytes.
    pub fn ed25519(x: &[u8]) -> Result<Self, KeyError> {
        let x = x.try_into().map_err(|_| {
            KeyError::Public(format!("an Ed25519 key is 32 bytes, not {}", x.len()))
        })?;
        Self::new(Algorithm::EdDsa, Material::Ed25519(x))
    }

    /// A P-256 public key from its coordinates, 32 bytes each.
    pub fn p256(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError::Public(
                "P-256 coordinates are 32 bytes each".into(),
            ));
        }
        let mut point = [4u8; 65];
        point[1..33].copy_from_slice(x);
        point[33..].copy_from_slice(y);
        Self::new(Algorithm::Es256, Material::P256(point))
    }

    /// An RSA public key from its modulus and exponent (leading zero bytes are dropped).
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let trim = |v: &[u8]| v[v.iter().position(|&b| b != 0).unwrap_or(v.len())..].to_vec();
        let (n, e) = (trim(n), trim(e));
        if n.len() < 256 || e.is_empty() {
            return Err(KeyError::Public(
                "an RSA modulus of fewer than 2048 bits".into(),
            ));
        }
        Self::new(Algorithm::Rs256, Material::Rsa { n, e })
    }

    /// A public key from a `-----BEGIN PUBLIC KEY-----` file (SubjectPublicKeyInfo, RFC 5280), as
    /// `openssl pkey -pubout` writes it.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem::decode(text, "PUBLIC KEY")?;
        let spki = der::spki(&der)
            .ok_or_else(|| KeyError::Public("not a DER SubjectPublicKeyInfo".into()))?;
        match (spki.algorithm, spki.parameter) {
            (der::OID_ED25519, None) => Self::ed25519(spki.key),
            (der::OID_EC_PUBLIC_KEY, Some(der::OID_P256)) => match spki.key {
                [4, xy @ ..] if xy.len() == 64 => Self::p256(&xy[..32], &xy[32..]),
                _ => Err(KeyError::Public("not an uncompressed P-256 point".into())),
            },
            (der::OID_RSA, _) => {
                let (n, e) = der::rsa_public_key(spki.key)
                    .ok_or_else(|| KeyError::Public("not a DER RSAPublicKey".into()))?;
                Self::rsa(n, e)
            }
            _ => Err(KeyError::Public("not an Ed25519, P-256 or RSA key".into())),
        }
    }

    /// Names the key `kid` instead of its thumbprint: a JWKS from elsewhere may name its keys so.
    pub fn named(mut self, kid: &str) -> Self {
        self.kid = kid.to_string();
        self
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Its key id: the thumbprint, unless [`named`](Self::named) otherwise.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// How long its signatures are, in bytes.
    pub fn signature_len(&self) -> usize {
        match &self.material {
            Material::Ed25519(_) | Material::P256(_) => 64,
            Material::Rsa { n, .. } => n.len(),
        }
    }

    /// Step 10 (RFC 7515 §5.2 step 8): `signature` is this key's signature of `signing_input`.
    /// For ES256 it is the fixed `r ‖ s` form of RFC 7518 §3.4, not DER.
    #[cfg(feature = "public-keys")]
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), JwtError> {
        let result = match &self.material {
            Material::Ed25519(x) => {
                UnparsedPublicKey::new(&ED25519, x).verify(signing_input, signature)
            }
            Material::P256(point) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signing_input, signature),
            Material::Rsa { n, e } => RsaPublicKeyComponents { n, e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                signing_input,
                signature,
            ),
        };
        result.map_err(|_| JwtError::Signature)
    }

    /// Never reached: without the `public-keys` feature no public key exists.
    #[cfg(not(feature = "public-keys"))]
    pub fn verify(&self, _signing_input: &[u8], _signature: &[u8]) -> Result<(), JwtError> {
        Err(JwtError::Signature)
    }

    /// The members that define the key, in lexicographic order (RFC 7638 §3.2–3.3), values already
    /// base64url where they are numbers.
    pub fn required_members(&self) -> Vec<(&'static str, String)> {
        match &self.material {
            Material::Ed25519(x) => vec![
                ("crv", "Ed25519".into()),
                ("kty", "OKP".into()),
                ("x", b64::encode(x)),
            ],
            Material::P256(point) => vec![
                ("crv", "P-256".into()),
                ("kty", "EC".into()),
                ("x", b64::encode(&point[1..33])),
                ("y", b64::encode(&point[33..])),
            ],
            Material::Rsa { n, e } => vec![
                ("e", b64::encode(e)),
                ("kty", "RSA".into()),
                ("n", b64::encode(n)),
            ],
        }
    }

    /// The RFC 7638 JSON the thumbprint hashes: the required members, in order, no whitespace.
    pub fn thumbprint_input(&self) -> String {
        let members: Vec<String> = self
            .required_members()
            .iter()
            .map(|(name, value)| format!(r#""{name}":"{value}""#))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// The JWK Thumbprint (RFC 7638 §3): base64url(SHA-256(thumbprint input)), 43 characters.
    pub fn thumbprint(&self) -> String {
        let digest =
            ring::digest::digest(&ring::digest::SHA256, self.thumbprint_input().as_bytes());
        b64::encode(digest.as_ref())
    }

    /// The SubjectPublicKeyInfo PEM (`openssl pkey -pubout`'s form) of an Ed25519 or P-256 key, for
    /// verifiers configured with a key file (Flask-JWT-Extended's `JWT_PUBLIC_KEY`). RSA keys came
    /// from the operator, who has the file already.
    pub fn to_pem(&self) -> Option<String> {
        // The fixed DER prefixes of the two SPKIs (RFC 8410 §4, RFC 5480 §2).
        const ED25519: &[u8] = &[
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        const P256: &[u8] = &[
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        let der = match &self.material {
            Material::Ed25519(x) => [ED25519, x].concat(),
            Material::P256(point) => [P256, point].concat(),
            Material::Rsa { .. } => return None,
        };
        Some(pem::encode(&der, "PUBLIC KEY"))
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, kid={})", self.alg, self.kid)
    }
}

/// A key that signs: the private half, its public key, and the header of every token it signs.
pub struct PrivateKey {
    pair: Pair,
    public: PublicKey,
    /// `BASE64URL({"alg":"EdDSA","typ":"JWT","kid":"<thumbprint>"})`.
    encoded_header: String,
    /// ES256 and RS256 signing draw random numbers (ECDSA's nonce; RSA's blinding).
    rng: SystemRandom,
}

/// `ring`'s key pairs; none without the `public-keys` feature.
enum Pair {
    #[cfg(feature = "public-keys")]
    Ed25519(Ed25519KeyPair),
    #[cfg(feature = "public-keys")]
    Es256(EcdsaKeyPair),
    #[cfg(feature = "public-keys")]
    Rs256(RsaKeyPair),
}

impl PrivateKey {
    /// Reads a PKCS#8 private key (DER); its type decides its algorithm.
    #[cfg(not(feature = "public-keys"))]
    pub fn from_pkcs8(_der: &[u8]) -> Result<Self, KeyError> {
        Err(KeyError::Disabled)
    }

    /// Reads a PKCS#8 private key (DER); its type decides its algorithm.
    #[cfg(feature = "public-keys")]
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        // openssl writes Ed25519 keys as PKCS#8 v1, without the public key; ring's own are v2.
        let pair = match Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Ok(pair) => Pair::Ed25519(pair),
            Err(_) => match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng) {
                Ok(pair) => Pair::Es256(pair),
                Err(_) => Pair::Rs256(
                    RsaKeyPair::from_pkcs8(der)
                        .map_err(|e| KeyError::Unsupported(e.to_string()))?,
                ),
            },
        };
        Self::from_pair(pair, rng)
    }

    /// Reads a `-----BEGIN PRIVATE KEY-----` file.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        Self::from_pkcs8(&pem::decode(text, "PRIVATE KEY")?)
    }

    /// A new key of `alg` (EdDSA or ES256), and its PKCS#8 form to keep.
    #[cfg(not(feature = "public-keys"))]
    pub fn generate(_alg: Algorithm) -> Result<(Self, Vec<u8>), KeyError> {
        Err(KeyError::Disabled)
    }

    /// A new key of `alg` (EdDSA or ES256), and its PKCS#8 form to keep.
    #[cfg(feature = "public-keys")]
    pub fn generate(alg: Algorithm) -> Result<(Self, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng),
            Algorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            Algorithm::Hs256 | Algorithm::Rs256 => return Err(KeyError::CannotGenerate(alg)),
        }
        .map_err(|_| KeyError::Random)?;
        let der = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8(&der)?, der))
    }

    #[cfg(feature = "public-keys")]
    fn from_pair(pair: Pair, rng: SystemRandom) -> Result<Self, KeyError> {
        let public = match &pair {
            Pair::Ed25519(p) => {
                let mut x = [0u8; 32];
                x.copy_from_slice(p.public_key().as_ref());
                PublicKey::new(Algorithm::EdDsa, Material::Ed25519(x))?
            }
            Pair::Es256(p) => {
                let mut point = [0u8; 65];
                point.copy_from_slice(p.public_key().as_ref());
                PublicKey::new(Algorithm::Es256, Material::P256(point))?
            }
            Pair::Rs256(p) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(p.public());
                PublicKey::new(
                    Algorithm::Rs256,
                    Material::Rsa {
                        n: parts.n,
                        e: parts.e,
                    },
                )?
            }
        };
        let header = format!(
            r#"{{"alg":"{}","typ":"JWT","kid":"{}"}}"#,
            public.alg.name(),
            public.kid
        );
        Ok(PrivateKey {
            pair,
            encoded_header: b64::encode(header.as_bytes()),
            public,
            rng,
        })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn alg(&self) -> Algorithm {
        self.public.alg
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The first segment of every token this key signs, already base64url.
    pub fn encoded_header(&self) -> &str {
        &self.encoded_header
    }

    /// The signature of `signing_input` (RFC 7515 §5.1 step 5): Ed25519's 64 bytes, ECDSA's fixed
    /// `r ‖ s`, or RSASSA-PKCS1-v1_5's modulus-long one. Fails only if the random generator does.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        #[cfg(not(feature = "public-keys"))]
        {
            // No pair exists to sign with in this build.
            let _ = (signing_input, &self.rng);
            match self.pair {}
        }
        #[cfg(feature = "public-keys")]
        match &self.pair {
            Pair::Ed25519(p) => Ok(p.sign(signing_input).as_ref().to_vec()),
            Pair::Es256(p) => p
                .sign(&self.rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Random),
            Pair::Rs256(p) => {
                let mut signature = vec![0; p.public().modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &self.rng, signing_input, &mut signature)
                    .map_err(|_| KeyError::Random)?;
                Ok(signature)
            }
        }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug output.
        write!(f, "PrivateKey({}, kid={})", self.alg(), self.kid())
    }
}

#[cfg(all(test, feature = "public-keys"))]
mod tests;
