//! What a file's top-level `x-tycho:` block says about the system for catalogs: its `title`,
//! `description` and whether it needs the `baseline` profile (the loader checks the block;
//! `connect` is read there).

use crate::yaml::{self, Node, Value};

/// `x-tycho: {title, description, profile}`, each when written as a string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XTycho {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `profile: baseline`: the images start as root, so the system runs only under an
    /// operator's `baseline` profile.
    pub needs_baseline: bool,
}

/// The `title` and `description` of `text`'s `x-tycho:` block; none when the text is not YAML
/// or has no such block.
pub fn x_tycho(text: &str) -> XTycho {
    let Ok(Some(root)) = yaml::parse(text).0 else {
        return XTycho::default();
    };
    let block = get(&root, "x-tycho");
    let string = |key| block.and_then(|b| get(b, key)?.as_str().map(str::to_string));
    XTycho {
        title: string("title"),
        description: string("description"),
        needs_baseline: string("profile").as_deref() == Some("baseline"),
    }
}

/// The value of a mapping's string key `key`.
fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_description() {
        let found = x_tycho(
            "name: x\nx-tycho:\n  title: \"T\"\n  description: >-\n    D\n    d\n  connect: {rewrite: strip}\nservices: {}\n",
        );
        assert_eq!(found.title.as_deref(), Some("T"));
        assert_eq!(found.description.as_deref(), Some("D d"));
        assert_eq!(x_tycho("services: {}\n"), XTycho::default());
        assert_eq!(x_tycho("x-tycho: [\n"), XTycho::default());
        assert_eq!(x_tycho("x-tycho:\n  title: 3\n").title, None);
        assert!(x_tycho("x-tycho:\n  profile: baseline\n").needs_baseline);
        assert!(!found.needs_baseline);
    }
}
