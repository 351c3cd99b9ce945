//! Text offered as a file download (the plan's YAML, a system's log).

use leptos::prelude::document;
use wasm_bindgen::{JsCast, JsValue};

/// Offers `content` as a download named `name` of type `mime`.
pub(super) fn save_file(name: &str, content: &str, mime: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document()
        .create_element("a")?
        .dyn_into()
        .map_err(JsValue::from)?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)
}
