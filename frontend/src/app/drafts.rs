//! Edits kept per catalog entry: switching cards (or reloading the page) does not throw away
//! what was typed. A draft is the entry's text as last edited, in the browser's local storage,
//! and only while it differs from the entry's own text.

use crate::api;

/// The storage key of an entry's draft; `None`: the blank file.
fn key(slug: Option<&str>) -> String {
    format!("tycho.draft.{}", slug.unwrap_or("blank"))
}

/// Whether an entry's text is kept as a draft: catalog entries and the blank file, not uploads
/// (their text is in the file they came from).
pub(super) fn kept(slug: Option<&str>) -> bool {
    !matches!(slug, Some("upload") | Some("folder"))
}

/// The entry's draft, if one was kept.
pub(super) fn load(slug: Option<&str>) -> Option<String> {
    if !kept(slug) {
        return None;
    }
    api::storage()?.get_item(&key(slug)).ok().flatten()
}

/// Keeps `text` as the entry's draft, or forgets the draft when `text` is the entry's own.
pub(super) fn save(slug: Option<&str>, text: &str, original: &str) {
    let Some(storage) = api::storage().filter(|_| kept(slug)) else {
        return;
    };
    let _ = if text == original {
        storage.remove_item(&key(slug))
    } else {
        storage.set_item(&key(slug), text)
    };
}
