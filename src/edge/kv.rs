//! Workers KV, through the binding's own JavaScript methods: text values, writes and listing.

use super::js;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// A KV namespace binding.
    #[derive(Clone)]
    pub type KvNamespace;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_as(this: &KvNamespace, key: &str, kind: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_text(this: &KvNamespace, key: &str, value: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = list)]
    fn list_with(this: &KvNamespace, options: &Object) -> Result<Promise, JsValue>;
}

/// One page of `list()`: key names, and the cursor for the next page unless it was the last.
pub struct Page {
    pub names: Vec<String>,
    pub next: Option<String>,
}

fn member(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, String> {
    let promise = promise.map_err(|e| js::describe(&e))?;
    JsFuture::from(promise).await.map_err(|e| js::describe(&e))
}

impl KvNamespace {
    /// The binding, if `value` is one (a text variable of the same name is not).
    pub fn from_binding(value: JsValue) -> Option<KvNamespace> {
        let is_kv = ["get", "put", "list"]
            .iter()
            .all(|method| member(&value, method).is_function());
        is_kv.then(|| value.unchecked_into())
    }

    pub async fn text(&self, key: &str) -> Result<Option<String>, String> {
        let value = settle(self.get_as(key, "text")).await?;
        Ok(value.as_string())
    }

    pub async fn put(&self, key: &str, value: &str) -> Result<(), String> {
        settle(self.put_text(key, value)).await.map(drop)
    }

    pub async fn list(&self, cursor: Option<&str>) -> Result<Page, String> {
        let options = Object::new();
        if let Some(cursor) = cursor {
            Reflect::set(
                &options,
                &JsValue::from_str("cursor"),
                &JsValue::from_str(cursor),
            )
            .map_err(|e| js::describe(&e))?;
        }
        let page = settle(self.list_with(&options)).await?;
        let keys: Array = member(&page, "keys")
            .dyn_into()
            .map_err(|_| "list() answered without keys".to_owned())?;
        let names = keys
            .iter()
            .filter_map(|key| member(&key, "name").as_string())
            .collect();
        // A page that does not say it is the last, or a next page without a cursor, is a
        // listing cut short: an error, never a complete list.
        let complete = member(&page, "list_complete")
            .as_bool()
            .ok_or_else(|| "list() answered without list_complete".to_owned())?;
        let next = if complete {
            None
        } else {
            let cursor = member(&page, "cursor")
                .as_string()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| "list() is incomplete but gave no cursor".to_owned())?;
            Some(cursor)
        };
        Ok(Page { names, next })
    }
}
