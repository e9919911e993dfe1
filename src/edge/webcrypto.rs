//! WebCrypto RS256: `importKey` once per key per isolate (the key set keeps the `CryptoKey`),
//! `verify` per token; and HMAC-SHA-256 for the key records in KV. Runs in the runtime's native
//! crypto, not in wasm.

use entra_gate_core::GateSecret;
use entra_gate_core::VettedKey;
use entra_gate_core::{CryptoFault, RecordAuthenticator, SignatureVerifier};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

const RSA_PKCS1: &str = "RSASSA-PKCS1-v1_5";

pub struct WebCryptoVerifier {
    subtle: SubtleCrypto,
    algorithm: Object,
}

fn fault(context: &str, error: JsValue) -> CryptoFault {
    CryptoFault {
        detail: format!("{context}: {}", super::js::describe(&error)),
    }
}

fn object(pairs: &[(&str, &JsValue)]) -> Result<Object, CryptoFault> {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(name), value).map_err(|e| fault("object", e))?;
    }
    Ok(object)
}

thread_local! {
    static VERIFIER: std::cell::OnceCell<std::rc::Rc<WebCryptoVerifier>> =
        const { std::cell::OnceCell::new() };
}

/// The isolate's verifier: `crypto.subtle` and the algorithm object are looked up and built once.
pub fn verifier() -> Result<std::rc::Rc<WebCryptoVerifier>, CryptoFault> {
    VERIFIER.with(|cell| {
        if let Some(verifier) = cell.get() {
            return Ok(std::rc::Rc::clone(verifier));
        }
        let verifier = std::rc::Rc::new(build_verifier()?);
        Ok(std::rc::Rc::clone(cell.get_or_init(|| verifier)))
    })
}

fn build_verifier() -> Result<WebCryptoVerifier, CryptoFault> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|e| fault("crypto", e))?;
    let subtle: SubtleCrypto = Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(|e| fault("crypto.subtle", e))?
        .unchecked_into();
    let hash = object(&[("name", &JsValue::from_str("SHA-256"))])?;
    let algorithm = object(&[("name", &JsValue::from_str(RSA_PKCS1)), ("hash", &hash)])?;
    Ok(WebCryptoVerifier { subtle, algorithm })
}

impl SignatureVerifier for WebCryptoVerifier {
    type PreparedKey = CryptoKey;

    async fn prepare(&self, key: &VettedKey) -> Result<CryptoKey, CryptoFault> {
        let jwk = object(&[
            ("kty", &JsValue::from_str("RSA")),
            ("n", &JsValue::from_str(&key.modulus_b64)),
            ("e", &JsValue::from_str("AQAB")),
            ("alg", &JsValue::from_str("RS256")),
            ("ext", &JsValue::TRUE),
        ])?;
        let usages = Array::of1(&JsValue::from_str("verify"));
        let promise = self
            .subtle
            .import_key_with_object("jwk", &jwk, &self.algorithm, false, &usages)
            .map_err(|e| fault("importKey", e))?;
        let imported = JsFuture::from(promise)
            .await
            .map_err(|e| fault("importKey", e))?;
        Ok(imported.unchecked_into())
    }

    async fn verify_rs256(
        &self,
        key: &CryptoKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoFault> {
        // The algorithm by name: RSASSA-PKCS1-v1_5 takes its hash from the key (imported with
        // SHA-256), and a string spares the runtime reading a dictionary on every call.
        let promise = self
            .subtle
            .verify_with_str_and_u8_array_and_u8_array(RSA_PKCS1, key, signature, message)
            .map_err(|e| fault("verify", e))?;
        let verdict = super::settle::settled(&promise)
            .await
            .map_err(|e| fault("verify", e))?;
        Ok(verdict.as_bool() == Some(true))
    }
}

/// WebCrypto HMAC-SHA-256 under `GATE_SECRET`: seals and opens the key records in KV. The key
/// is imported once per isolate (non-extractable).
pub struct WebCryptoHmac {
    subtle: SubtleCrypto,
    key: CryptoKey,
}

thread_local! {
    static HMAC: std::cell::OnceCell<std::rc::Rc<WebCryptoHmac>> =
        const { std::cell::OnceCell::new() };
}

/// The isolate's record authenticator, importing the secret on first use.
pub async fn record_authenticator(
    secret: &GateSecret,
) -> Result<std::rc::Rc<WebCryptoHmac>, CryptoFault> {
    if let Some(ready) = HMAC.with(|cell| cell.get().cloned()) {
        return Ok(ready);
    }
    let subtle = verifier()?.subtle.clone();
    let hash = object(&[("name", &JsValue::from_str("SHA-256"))])?;
    let algorithm = object(&[("name", &JsValue::from_str("HMAC")), ("hash", &hash)])?;
    let usages = Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
    let raw = js_sys::Uint8Array::from(secret.as_bytes());
    let promise = subtle
        .import_key_with_object("raw", &raw, &algorithm, false, &usages)
        .map_err(|e| fault("importKey", e))?;
    let key: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|e| fault("importKey", e))?
        .unchecked_into();
    let hmac = std::rc::Rc::new(WebCryptoHmac { subtle, key });
    Ok(HMAC.with(|cell| std::rc::Rc::clone(cell.get_or_init(|| hmac))))
}

impl RecordAuthenticator for WebCryptoHmac {
    async fn tag(&self, message: &[u8]) -> Result<Vec<u8>, CryptoFault> {
        let promise = self
            .subtle
            .sign_with_str_and_u8_array("HMAC", &self.key, message)
            .map_err(|e| fault("sign", e))?;
        let signed = JsFuture::from(promise)
            .await
            .map_err(|e| fault("sign", e))?;
        Ok(js_sys::Uint8Array::new(&signed).to_vec())
    }

    async fn verify_tag(&self, message: &[u8], tag: &[u8]) -> Result<bool, CryptoFault> {
        // WebCrypto's verify compares in constant time.
        let promise = self
            .subtle
            .verify_with_str_and_u8_array_and_u8_array("HMAC", &self.key, tag, message)
            .map_err(|e| fault("verify", e))?;
        let verdict = JsFuture::from(promise)
            .await
            .map_err(|e| fault("verify", e))?;
        Ok(verdict.as_bool() == Some(true))
    }
}
