//! RSA signing keys: generation, PEM storage, JWK publication and RS256 signing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1v15::SigningKey as Pkcs1SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    private: RsaPrivateKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate(kid: &str, bits: usize) -> Result<Self, String> {
        let private =
            RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(|e| e.to_string())?;
        Ok(SigningKey {
            kid: kid.to_owned(),
            private,
        })
    }

    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, String> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
        Ok(SigningKey {
            kid: kid.to_owned(),
            private,
        })
    }

    pub fn to_pem(&self) -> Result<String, String> {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| e.to_string())
    }

    pub fn public_key(&self) -> RsaPublicKey {
        self.private.to_public_key()
    }

    /// SubjectPublicKeyInfo PEM: what an attacker would use as an HMAC secret in a confusion attack.
    pub fn public_pem(&self) -> String {
        self.public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    pub fn modulus_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.private.n().to_bytes_be())
    }

    /// The key as Entra publishes it: `kty`, `use`, `kid`, `x5t`, `n`, `e`, and on v2
    /// documents an `issuer`. No `alg`, as in Entra.
    pub fn public_jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.modulus_b64(),
            "e": URL_SAFE_NO_PAD.encode(self.private.e().to_bytes_be()),
        });
        if let Some(issuer) = issuer {
            jwk["issuer"] = Value::String(issuer.to_owned());
        }
        jwk
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Vec<u8> {
        let signer = Pkcs1SigningKey::<Sha256>::new(self.private.clone());
        signer.sign(message).to_vec()
    }
}
