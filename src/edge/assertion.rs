//! Signs identity assertions with WebCrypto Ed25519; the key is imported once per isolate.

use entra_gate_core::{AssertionClaims, AssertionKey};
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

thread_local! {
    static KEY: RefCell<Option<CryptoKey>> = const { RefCell::new(None) };
}

fn js(e: JsValue) -> String {
    super::js::describe(&e)
}

fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(js)?;
    Ok(Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(js)?
        .unchecked_into())
}

fn algorithm() -> Result<Object, String> {
    let algorithm = Object::new();
    Reflect::set(
        &algorithm,
        &JsValue::from_str("name"),
        &JsValue::from_str("Ed25519"),
    )
    .map_err(js)?;
    Ok(algorithm)
}

async fn key(subtle: &SubtleCrypto, key: &AssertionKey) -> Result<CryptoKey, String> {
    if let Some(imported) = KEY.with(|k| k.borrow().clone()) {
        return Ok(imported);
    }
    let jwk = Object::new();
    for (name, value) in [
        ("kty", "OKP"),
        ("crv", "Ed25519"),
        ("d", key.d.as_str()),
        ("x", key.x.as_str()),
    ] {
        Reflect::set(&jwk, &JsValue::from_str(name), &JsValue::from_str(value)).map_err(js)?;
    }
    let promise = subtle
        .import_key_with_object(
            "jwk",
            &jwk,
            &algorithm()?,
            false,
            &Array::of1(&JsValue::from_str("sign")),
        )
        .map_err(js)?;
    let imported: CryptoKey = JsFuture::from(promise).await.map_err(js)?.unchecked_into();
    KEY.with(|k| *k.borrow_mut() = Some(imported.clone()));
    Ok(imported)
}

/// The compact JWS for these claims.
pub async fn sign(
    assertion_key: &AssertionKey,
    claims: &AssertionClaims<'_>,
) -> Result<String, String> {
    let subtle = subtle()?;
    let signing_key = key(&subtle, assertion_key).await?;
    let input = assertion_key.signing_input(claims);
    let promise = subtle
        .sign_with_object_and_u8_array(&algorithm()?, &signing_key, input.as_bytes())
        .map_err(js)?;
    let signature = Uint8Array::new(&JsFuture::from(promise).await.map_err(js)?).to_vec();
    Ok(AssertionKey::compact(&input, &signature))
}
