//! Signature verification as a service the platform provides.
//!
//! The core never links a crypto implementation into its decisions: it asks a
//! [`SignatureVerifier`]. Natively (tests, tools) that is [`RustVerifier`] (jwt-compact over the
//! RustCrypto `rsa` crate); in the worker it is WebCrypto, which runs in the runtime's native
//! code and costs tens of microseconds where pure-Rust RSA in wasm costs most of a millisecond.

use super::jwks::VettedKey;
use std::fmt;

/// The platform could not prepare a key or run a verification (not a verdict on the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoFault {
    /// What the platform said, for the log.
    pub detail: String,
}

impl fmt::Display for CryptoFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crypto provider failed: {}", self.detail)
    }
}

impl std::error::Error for CryptoFault {}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) verification. Asynchronous because WebCrypto is.
// The worker runs on one thread, so the futures need not be `Send`; the lint warns about exactly
// the bound this trait deliberately leaves out.
#[allow(async_fn_in_trait)]
pub trait SignatureVerifier {
    /// What the platform keeps per key so that each token costs only the verification.
    type PreparedKey;

    /// Imports a vetted key, once per key (on its first use; the key set keeps the result).
    /// `Err` only when the platform failed.
    async fn prepare(&self, key: &VettedKey) -> Result<Self::PreparedKey, CryptoFault>;

    /// `Ok(false)` for a signature that does not verify; `Err` only when the platform failed.
    async fn verify_rs256(
        &self,
        key: &Self::PreparedKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoFault>;
}

#[cfg(any(not(target_arch = "wasm32"), feature = "rust-verifier"))]
pub use rust_verifier::RustVerifier;

#[cfg(any(not(target_arch = "wasm32"), feature = "rust-verifier"))]
mod rust_verifier {
    use super::{CryptoFault, SignatureVerifier, VettedKey};
    use jwt_compact::alg::{Rsa, RsaPublicKey, RsaSignature};
    use jwt_compact::jwk::JsonWebKey;
    use jwt_compact::{Algorithm, AlgorithmSignature};
    use std::borrow::Cow;

    /// Pure-Rust RS256 through jwt-compact.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct RustVerifier;

    impl SignatureVerifier for RustVerifier {
        type PreparedKey = RsaPublicKey;

        async fn prepare(&self, key: &VettedKey) -> Result<RsaPublicKey, CryptoFault> {
            let jwk = JsonWebKey::Rsa {
                modulus: Cow::Borrowed(&key.modulus),
                public_exponent: Cow::Borrowed(&[1, 0, 1]),
                private_parts: None,
            };
            RsaPublicKey::try_from(&jwk).map_err(|e| CryptoFault {
                detail: e.to_string(),
            })
        }

        async fn verify_rs256(
            &self,
            key: &RsaPublicKey,
            message: &[u8],
            signature: &[u8],
        ) -> Result<bool, CryptoFault> {
            let Ok(signature) = RsaSignature::try_from_slice(signature) else {
                return Ok(false);
            };
            Ok(Rsa::rs256().verify_signature(&signature, key, message))
        }
    }
}

/// HMAC-SHA-256 under `GATE_SECRET`, as a service the platform provides: what seals the key
/// records the gateway keeps in KV. Natively [`RustHmac`]; in the worker, WebCrypto.
#[allow(async_fn_in_trait)]
pub trait RecordAuthenticator {
    /// The 32-byte tag of `message`.
    async fn tag(&self, message: &[u8]) -> Result<Vec<u8>, CryptoFault>;

    /// Whether `tag` is `message`'s, compared in constant time. `Err` only when the platform
    /// failed.
    async fn verify_tag(&self, message: &[u8], tag: &[u8]) -> Result<bool, CryptoFault>;
}

#[cfg(not(target_arch = "wasm32"))]
pub use rust_hmac::RustHmac;

#[cfg(not(target_arch = "wasm32"))]
mod rust_hmac {
    use super::{CryptoFault, RecordAuthenticator};
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    /// HMAC-SHA-256 in Rust, for native tests and tools.
    #[derive(Clone)]
    pub struct RustHmac {
        key: Vec<u8>,
    }

    impl RustHmac {
        /// An authenticator under this secret key (`GATE_SECRET`'s bytes).
        pub fn new(key: &[u8]) -> Self {
            RustHmac { key: key.to_vec() }
        }

        fn mac(&self, message: &[u8]) -> Result<Hmac<Sha256>, CryptoFault> {
            let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).map_err(|e| CryptoFault {
                detail: e.to_string(),
            })?;
            mac.update(message);
            Ok(mac)
        }
    }

    impl RecordAuthenticator for RustHmac {
        async fn tag(&self, message: &[u8]) -> Result<Vec<u8>, CryptoFault> {
            Ok(self.mac(message)?.finalize().into_bytes().to_vec())
        }

        async fn verify_tag(&self, message: &[u8], tag: &[u8]) -> Result<bool, CryptoFault> {
            Ok(self.mac(message)?.verify_slice(tag).is_ok())
        }
    }
}
